"""`fab up --target lab` for real on pristine lab nodes (conftest's `first_up`, shared with
the modules that check one stage's result on the converged nodes): every stage runs in
order and leaves its state on the nodes; a second `fab up` changes nothing and builds
nothing; the notebook runs headless on the converged lab."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from gourmetops.cluster import CLUSTER_ENV, load_cluster
from gourmetops.kubespray.record import RECORD
from gourmetops.lab.scaled import scaled_raw
from tests.labtools import Lab
from tests.test_notebook import NEEDS_KUBERNETES, NOTEBOOK, execute

SKIPPED = "skipped, lab's cluster stage installs no Kubernetes"
# What each stage prints when it runs, in the order `fab up` runs them: its start line
# from the stage list, then a line its own code prints.
STAGES = {
    "prepare": ["==> stage 1/7: prepare\n", "deploys/prepare.py -y"],
    "kubespray": ["==> stage 2/7: kubespray\n", "deploys/kubespray.py -y"],
    # the lab's cluster stage: kubespray's facts playbook, then its container-engine stand-in
    "cluster": [
        "==> stage 3/7: cluster\n",
        "==> cluster: running playbooks/facts.yml: no finished run of it is recorded on node1\n",
        "==> playbooks/facts.yml: ",
        "deploys/lab_container_engine.py -y",
    ],
    "kubeconfig": [f"==> stage 4/7: kubeconfig: {SKIPPED}\n"],
    "registry": ["==> stage 5/7: registry\n", "deploys/registry.py -y"],
    "image": ["==> stage 6/7: image\n", "==> image: "],
    "rollout": [f"==> stage 7/7: rollout: {SKIPPED}\n"],
}


def timings(cluster: str = "ok") -> re.Pattern[str]:
    """The stage table `fab up` ends with: every stage ok but the two the lab skips, and the
    cluster stage `cluster` ("unchanged" when it was not run again)."""
    rows = {name: "ok" if len(marks) > 1 else "skipped" for name, marks in STAGES.items()}
    rows["cluster"] = cluster
    return re.compile(
        r"stage timings \(lab\):\n"
        + "".join(
            rf"  {name:<10}  +\d+\.\d s  {how}\n"
            if how != "skipped"
            else rf"  {name:<10}  +-  +skipped\n"
            for name, how in rows.items()
        )
        + r"  total       +\d+\.\d s\n"
    )


@pytest.fixture(scope="module")
def second_up(converged_lab: Lab) -> subprocess.CompletedProcess[str]:
    result = converged_lab.fab("up", "--target", "lab")
    assert result.returncode == 0, result.stdout[-5000:]
    return result


# On a converged lab the cluster stage finds its record unchanged and does not run again.
UNCHANGED = [
    "==> stage 3/7: cluster\n",
    "==> cluster: unchanged since ",
    " (kubespray ",
    ", 3 nodes, playbooks/facts.yml); not run again (`fab up --redo cluster` runs it)\n",
]


def stage_positions(output: str, **instead: list[str]) -> list[int]:
    positions = []
    for stage, markers in (STAGES | instead).items():
        for marker in markers:
            assert marker in output, f"stage {stage} did not run ({marker!r} not printed)"
            positions.append(output.index(marker))
    return positions


PYINFRA_TOTALS = re.compile(
    r"^  (\d+) operations?: (\d+) changed something, (\d+) changed nothing, (\d+) failed(.*)$",
    re.M,
)


def pyinfra_totals(output: str) -> list[tuple[int, int, int, int, str]]:
    """Every pyinfra stage's totals line on fab's console (gourmetops.pyinfra_report:
    operations, those that changed something, nothing, failed; then any host not reached)."""
    return [
        (int(m[1]), int(m[2]), int(m[3]), int(m[4]), m[5]) for m in PYINFRA_TOTALS.finditer(output)
    ]


def playbook_changes(output: str) -> dict[str, int]:
    line = next(x for x in output.splitlines() if x.startswith("==> playbooks/facts.yml: "))
    return {m[1]: int(m[2]) for m in re.finditer(r"(\w+) ok=\d+ changed=(\d+)", line)}


def test_every_stage_runs_in_order(first_up):
    positions = stage_positions(first_up.stdout)
    assert positions == sorted(positions)
    assert timings().search(first_up.stdout), first_up.stdout[-1500:]
    # after the table, what runs and what to do next (gourmetops.next_steps)
    tail = first_up.stdout[timings().search(first_up.stdout).end() :]
    assert tail.startswith("up on lab: done.\n  running: 3 nodes with Docker;"), tail
    assert "  next:    fab check --target lab --when post" in tail
    assert "==> image: built" in first_up.stdout
    # fresh nodes: what prepare puts right (firewalld, node1's old Docker) reads "todo"
    checks = first_up.stdout.split("==> pre-checks\n")[1].split("==> stage 1/7")[0]
    assert "  todo  " in checks and "FAIL" not in checks, checks
    assert re.search(r"\d+ ok, 0 failed, \d+ todo, \d+ skipped: ", checks), checks
    # prepare, kubespray, the container engine (cluster stage), registry
    assert len(pyinfra_totals(first_up.stdout)) == 4


def test_a_second_changing_run_is_refused_while_up_runs(first_up):
    refused = first_up.refused
    assert refused.returncode == 75, refused.stdout
    assert refused.stdout.startswith("error: target lab is being changed by another run: PID "), (
        refused.stdout
    )
    assert "(`fab up`, started " in refused.stdout
    assert "deploys/registry.py" not in refused.stdout  # refused before anything ran


def test_every_stage_left_its_state_on_the_nodes(converged_lab: Lab, first_up):
    for node in converged_lab.nodes:
        assert converged_lab.out(node, "systemctl is-active firewalld || true") == "inactive", node
        assert "node1:5000" in converged_lab.out(node, "cat /etc/docker/daemon.json"), node
    assert converged_lab.out("node1", "stat -c %a ~/.ssh/id_rsa") == "600"
    converged_lab.ssh("node1", "test -f kubespray/inventory/mycluster/hosts.yaml")  # raises if not
    for node in converged_lab.nodes:
        assert converged_lab.out(node, "systemctl is-active docker") == "active", node
    registry = "sudo docker ps --filter name=^registry$ --format '{{.Image}} {{.Status}}'"
    assert converged_lab.out("node1", registry).startswith("registry:2 Up")
    # The playbook reached all three nodes through node1.
    assert set(playbook_changes(first_up.stdout)) == set(converged_lab.nodes)
    catalog = converged_lab.fab("catalog")
    assert re.search(r"gourmetgram-app: dir-\w+, latest", catalog.stdout), catalog.stdout


def test_second_up_changes_nothing_and_builds_nothing(second_up):
    """Nothing kubespray reads changed: its playbook is not run again (said, and marked
    unchanged in the table); every pyinfra stage finds nothing to do; no image is built."""
    out = second_up.stdout
    positions = stage_positions(out, cluster=UNCHANGED)
    assert positions == sorted(positions)
    assert timings("unchanged").search(out), out[-1500:]
    assert "ansible-playbook" not in out and "lab_container_engine" not in out
    # the pre-checks check what the playbook needs: they wait for it, and it does not run
    assert "==> pre-checks: not yet: node1's record shows the cluster stage unchanged; " in out
    assert "pre-checks (lab):" not in out
    totals = pyinfra_totals(out)
    assert len(totals) == 3, out[-3000:]  # prepare, kubespray, registry
    for ops, changed, unchanged, failed, unreached in totals:
        assert (changed, unchanged, failed, unreached) == (0, ops, 0, ""), out[-3000:]
    assert "==> image: unchanged" in out and "docker build" not in out


@pytest.mark.timeout(3600)
def test_the_notebook_runs_headless_on_the_converged_lab(second_up, tmp_path):
    """CI's run of notebooks/deploy_on_kubernetes.ipynb: every cell in order, TARGET = "lab",
    on the nodes the two runs above converged (the same stages from pristine nodes are what
    `first_up` checks; the notebook calls the same code); an error cell fails the test, and
    the sections the lab cannot run say so."""
    nb = execute(NOTEBOOK, NOTEBOOK.parent, tmp_path / "executed.ipynb", "lab")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for name in NEEDS_KUBERNETES:
        assert f": {name}: {SKIPPED}" in text, name
    for name in ("prepare", "kubespray", "registry", "image"):
        assert re.search(rf"^  {name} +\d+\.\d s  ok$", text, re.M), name
    # converged and recorded by the runs above: the notebook does not run kubespray again
    assert re.search(r"^  cluster +\d+\.\d s  unchanged$", text, re.M)
    assert "==> cluster: unchanged since " in text
    assert "no experiment results for lab yet" in text


# A file of the inventory kubespray reads, edited on node1 by hand (not one the kubespray
# stage puts back): what a changed group_vars setting does to the record, for real.
ETCD_VARS = "kubespray/inventory/mycluster/group_vars/all/etcd.yml"


def test_a_changed_inventory_runs_the_cluster_stage_again_once(second_up, converged_lab: Lab):
    lab = converged_lab
    lab.ssh("node1", f"echo '# edited by hand' >> {ETCD_VARS}")
    changed = lab.fab("up", "--from", "cluster", "--to", "cluster")
    assert changed.returncode == 0, changed.stdout[-3000:]
    out = changed.stdout
    assert "==> pre-checks\n" in out  # the cluster stage is in the slice: they are for it
    assert "==> stage 3/7: cluster\n" in out and "==> stage 1/7" not in out
    assert "==> stage 5/7" not in out
    assert re.search(
        r"==> cluster: running playbooks/facts.yml: changed since \d{4}-\d\d-\d\d \d\d:\d\d UTC: "
        r"group_vars/all/etcd.yml edited\n",
        out,
    ), out[-3000:]
    assert set(playbook_changes(out)) == set(lab.nodes)
    again = lab.fab("up", "--from", "cluster", "--to", "cluster")
    assert again.returncode == 0 and "==> cluster: unchanged since " in again.stdout
    assert "ansible-playbook" not in again.stdout
    # --redo takes the path the edit above took (the playbook run for real): its decision
    # is what differs, and a dry run shows it without a third playbook run
    redo = lab.fab("up", "--from", "cluster", "--to", "cluster", "--redo", "cluster", "--dry")
    assert "==> cluster: would run playbooks/facts.yml: asked for with --redo cluster" in (
        redo.stdout
    ), redo.stdout[-3000:]
    assert redo.returncode == 0 and "ansible-playbook" in redo.stdout


def test_pre_checks_left_for_an_unchanged_cluster_stage_run_before_it_runs_after_all(
    second_up, converged_lab: Lab, tmp_path
):
    """node3 made a control plane in cluster.yaml: node1's record still matches node1's
    inventory before any stage, so the pre-checks wait; the kubespray stage then writes the
    new hosts.yaml, the cluster stage runs, and the pre-checks run first, inside it."""
    raw = scaled_raw(load_cluster(), 3)
    for node in raw["nodes"]:
        node["roles"] = ["kube_control_plane", "kube_node", "etcd"]
    (tmp_path / "cluster.yaml").write_text(json.dumps(raw))
    ran = converged_lab.fab(
        "up", "--to", "cluster", env={CLUSTER_ENV: str(tmp_path / "cluster.yaml")}
    )
    out = ran.stdout
    assert ran.returncode == 0, out[-3000:]
    marks = [
        "==> pre-checks: not yet: node1's record shows the cluster stage unchanged; ",
        "==> stage 1/7: prepare\n",
        "==> stage 3/7: cluster\n",
        "==> pre-checks (the cluster stage runs after all)\n",
        "pre-checks (lab):\n",
        "==> cluster: running playbooks/facts.yml: changed since ",
        "==> playbooks/facts.yml: ",
    ]
    assert all(m in out for m in marks), out[-3000:]
    assert [out.index(m) for m in marks] == sorted(out.index(m) for m in marks), out[-3000:]
    assert "hosts.yaml" in out[out.index(marks[5]) :].splitlines()[0]


def test_up_from_registry_runs_only_the_stages_from_there(second_up, converged_lab: Lab):
    result = converged_lab.fab("up", "--from", "registry")
    out = result.stdout
    assert result.returncode == 0, out[-3000:]
    assert "==> pre-checks: skipped, they check what the cluster stage needs" in out
    for stage in ("prepare", "kubespray", "cluster", "kubeconfig"):
        assert f": {stage}" not in out and f"  {stage} " not in out, stage
    positions = [out.index(m) for s in ("registry", "image", "rollout") for m in STAGES[s]]
    assert positions == sorted(positions)


def test_a_node_that_left_cluster_yaml_but_not_the_cluster_stops_up(second_up, converged_lab: Lab):
    """node1's record says the last run had node4 too (as if it had been in cluster.yaml):
    cluster.yml would leave it joined, so `fab up` stops before running it, naming the
    node and `fab nodes.remove` (kubespray's remove-node.yml)."""
    lab = converged_lab
    lab.ssh(
        "node1",
        f"python3 -c 'import json,sys; p=sys.argv[1]; r=json.load(open(p)); "
        f'r["nodes"].append("node4"); json.dump(r, open(p, "w"))\' {RECORD}',
    )
    ran = lab.fab("up", "--from", "cluster", "--to", "cluster")
    assert ran.returncode == 1, ran.stdout[-3000:]
    assert ran.stdout.strip().splitlines()[-1] == (
        "node4 left cluster.yaml but the cluster's last run had it as nodes: run `fab "
        "nodes.remove node4 --target lab` (kubespray's remove-node.yml drains and removes it), "
        "or put node4 back in cluster.yaml"
    )
    assert "ansible-playbook -i" not in ran.stdout  # nothing ran
