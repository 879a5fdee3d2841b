"""`fab up --target lab` for real on pristine lab nodes (conftest's `first_up`, shared with
the modules that check one stage's result on the converged nodes): every stage runs in
order and leaves its state on the nodes; a second `fab up` changes nothing and builds
nothing; the notebook runs headless on the converged lab."""

from __future__ import annotations

import re
import subprocess

import pytest

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
        "==> playbooks/facts.yml: ",
        "deploys/lab_container_engine.py -y",
    ],
    "kubeconfig": [f"==> stage 4/7: kubeconfig: {SKIPPED}\n"],
    "registry": ["==> stage 5/7: registry\n", "deploys/registry.py -y"],
    "image": ["==> stage 6/7: image\n", "==> image: "],
    "rollout": [f"==> stage 7/7: rollout: {SKIPPED}\n"],
}
TIMINGS = re.compile(
    r"stage timings \(lab\):\n"
    + "".join(
        rf"  {name:<10}  +\d+\.\d s  ok\n" if len(marks) > 1 else rf"  {name:<10}  +-  +skipped\n"
        for name, marks in STAGES.items()
    )
    + r"  total       +\d+\.\d s\n"
)


@pytest.fixture(scope="module")
def second_up(converged_lab: Lab) -> subprocess.CompletedProcess[str]:
    result = converged_lab.fab("up", "--target", "lab")
    assert result.returncode == 0, result.stdout[-5000:]
    return result


def stage_positions(output: str) -> list[int]:
    positions = []
    for stage, markers in STAGES.items():
        for marker in markers:
            assert marker in output, f"stage {stage} did not run ({marker!r} not printed)"
            positions.append(output.index(marker))
    return positions


def pyinfra_totals(output: str) -> list[tuple[list[str], str]]:
    """Every pyinfra results table's Grand total row (hosts, success, error, no change),
    with the table it closes (to show which operation changed)."""
    totals = []
    for table in output.split("--> Results:")[1:]:
        rows = table.split("--> Disconnecting")[0]
        grand = next(x for x in rows.splitlines() if x.strip().startswith("Grand total"))
        totals.append((grand.split()[2:], rows))
    return totals


def playbook_changes(output: str) -> dict[str, int]:
    line = next(x for x in output.splitlines() if x.startswith(STAGES["cluster"][1]))
    return {m[1]: int(m[2]) for m in re.finditer(r"(\w+) ok=\d+ changed=(\d+)", line)}


def test_every_stage_runs_in_order(first_up):
    positions = stage_positions(first_up.stdout)
    assert positions == sorted(positions)
    assert TIMINGS.search(first_up.stdout), first_up.stdout[-1500:]
    # after the table, what runs and what to do next (gourmetops.next_steps)
    tail = first_up.stdout[TIMINGS.search(first_up.stdout).end() :]
    assert tail.startswith("up on lab: done.\n  running: 3 nodes with Docker;"), tail
    assert "  next:    fab check --target lab --when post" in tail
    assert "==> image: built" in first_up.stdout
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
    out = second_up.stdout
    positions = stage_positions(out)
    assert positions == sorted(positions)
    totals = pyinfra_totals(out)
    assert len(totals) == 4, out[-3000:]
    for (hosts, success, error, no_change), table in totals:
        assert (success, error, no_change) == ("-", "-", hosts), table
    assert set(playbook_changes(out).values()) == {0}, out[-3000:]
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
    for name in ("prepare", "kubespray", "cluster", "registry", "image"):
        assert re.search(rf"^  {name} +\d+\.\d s  ok$", text, re.M), name
    assert "no experiment results for lab yet" in text
