"""`fab up --target lab` on pristine lab nodes: first `--dry` (every stage plans, no node
changes), then for real (every stage runs in order and leaves its state on the nodes), then
again (nothing changes, nothing is built). The kubespray stage's own checks run on the
nodes it converged here: the checkout and venv as pinned, kubespray's facts playbook through
node1, the playbook's retries, and a move to another ref and back."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from gourmetops import render
from gourmetops.kubespray.recap import parse_recap
from tests.kubespray_source import KUBESPRAY
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
PLAYBOOKS = Path(__file__).parent / "fixtures" / "playbooks"
# What any stage would change, read without changing it (no podman call: its first run
# creates its storage).
SNAPSHOT = (
    "ls -A ~; ls -la --time-style=full-iso ~/.ssh; cat ~/.ssh/* 2>/dev/null | sha256sum; "
    "systemctl is-active firewalld; systemctl is-enabled firewalld; "
    "systemctl is-active docker-registry; systemctl is-enabled docker-registry; "
    "systemctl is-active docker; "
    "dpkg -l | sha256sum; ls /etc/apt/sources.list.d; "
    "sudo cat /etc/docker/daemon.json /etc/docker/registry/config.yml 2>&1 | sha256sum; "
    "ls -A /etc/containers/registries.conf.d 2>&1; "
    "sudo ls -A /var/lib/containers/storage 2>&1; ss -ltnH | sort"
)


def snapshot(lab: Lab) -> dict[str, str]:
    return {node: lab.ssh(node, SNAPSHOT, check=False).stdout for node in lab.nodes}


def test_dry_up_plans_every_stage_and_changes_nothing(fresh_lab: Lab):
    """Runs first, on the pristine nodes `first_up` then converges: even the image stage
    plans, though no registry answers yet."""
    before = snapshot(fresh_lab)
    assert "kubespray" not in before["node1"] and ":5000" not in before["node1"]
    result = fresh_lab.fab("up", "--target", "lab", "--dry")
    out = result.stdout
    assert result.returncode == 0, out[-3000:]
    for planned in (
        "deploys/prepare.py --dry",
        "Stop and disable firewalld",
        "deploys/kubespray.py --dry",
        "kubespray checked out at release-2.26",
        "would run on node1 (lab)",  # the cluster stage's playbook
        "deploys/registry.py --dry",
        "deploys/lab_container_engine.py --dry",
        "Install docker.io, crun from the rootfs's .debs (offline)",
        "would run registry:2 on 10.254.1.11:5000: no Docker engine on it yet",
        "no registry answers at http://10.254.1.11:5000",
        "would build and push node1:5000/gourmetgram-app:",
        "==> image: dry",
        "==> stage 4/7: kubeconfig: skipped, lab's cluster stage installs no Kubernetes",
        "==> stage 7/7: rollout: skipped",
        "stage timings (lab):",
    ):
        assert planned in out, planned
    assert snapshot(fresh_lab) == before


@pytest.fixture(scope="module")
def first_up(fresh_lab: Lab) -> subprocess.CompletedProcess[str]:
    """`fab up`, and while it runs a second changing run on the same target (refused)."""
    first = fresh_lab.fab_started("up", "--target", "lab")
    lock = fresh_lab.target.state_dir / "run.lock"
    deadline = time.monotonic() + 120
    while '"task": "up"' not in (lock.read_text() if lock.exists() else ""):
        assert first.poll() is None and time.monotonic() < deadline, "fab up took no lock"
        time.sleep(0.2)
    second = fresh_lab.fab("registry")
    out, _ = first.communicate(timeout=1800)
    result = subprocess.CompletedProcess(first.args, first.returncode, out)
    assert result.returncode == 0, result.stdout[-5000:]
    result.refused = second  # type: ignore[attr-defined]
    return result


@pytest.fixture(scope="module")
def second_up(fresh_lab: Lab, first_up) -> subprocess.CompletedProcess[str]:
    result = fresh_lab.fab("up", "--target", "lab")
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


def test_every_stage_left_its_state_on_the_nodes(fresh_lab: Lab, first_up):
    for node in fresh_lab.nodes:
        assert fresh_lab.out(node, "systemctl is-active firewalld || true") == "inactive", node
        assert "node1:5000" in fresh_lab.out(node, "cat /etc/docker/daemon.json"), node
    assert fresh_lab.out("node1", "stat -c %a ~/.ssh/id_rsa") == "600"
    fresh_lab.ssh("node1", "test -f kubespray/inventory/mycluster/hosts.yaml")  # raises if not
    for node in fresh_lab.nodes:
        assert fresh_lab.out(node, "systemctl is-active docker") == "active", node
    registry = "sudo docker ps --filter name=^registry$ --format '{{.Image}} {{.Status}}'"
    assert fresh_lab.out("node1", registry).startswith("registry:2 Up")
    # The playbook reached all three nodes through node1.
    assert set(playbook_changes(first_up.stdout)) == set(fresh_lab.nodes)
    catalog = fresh_lab.fab("catalog")
    assert re.search(r"gourmetgram-app: dir-\w+, latest", catalog.stdout), catalog.stdout


def test_kubespray_checked_out_and_installed_as_pinned(fresh_lab: Lab, first_up):
    lab = fresh_lab
    bundle_head = subprocess.run(
        ["git", "ls-remote", KUBESPRAY, "refs/heads/release-2.26"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert lab.out("node1", "git -C kubespray rev-parse HEAD") == bundle_head
    assert lab.out("node1", "git -C kubespray rev-parse --abbrev-ref HEAD") == "release-2.26"
    # The requirements are installed from the synced wheels, with the pins kubespray asks for.
    pins = lab.out("node1", "grep -E '^ansible==' kubespray/requirements.txt")
    assert pins in lab.out("node1", "myenv/bin/pip freeze").splitlines()
    assert lab.out("node1", "myenv/bin/python -c 'import ruamel.yaml; print(1)'") == "1"
    # The sample stays as upstream wrote it: the inventory is a copy, the one render shows.
    assert lab.out("node1", "git -C kubespray status --porcelain inventory/sample") == ""
    files = render.artifacts("lab")
    kubespray_files = {
        k.removeprefix("kubespray/"): v for k, v in files.items() if k.startswith("kubespray/")
    }
    assert len(kubespray_files) == 3
    for rel, text in kubespray_files.items():
        assert lab.ssh("node1", f"cat kubespray/{rel}").stdout == text, rel


def test_kubesprays_facts_playbook_ran_on_every_node(fresh_lab: Lab, first_up):
    """The lab's cluster stage: kubespray's playbooks/facts.yml from node1's venv, to all
    three nodes over the private network."""
    assert "[task 1] PLAY Bootstrap hosts for Ansible" in first_up.stdout
    logs = sorted((fresh_lab.target.state_dir / "logs").glob("facts-*.log"))
    recap = parse_recap(logs[-1].read_text())
    assert sorted(recap) == ["node1", "node2", "node3"]
    assert all(h.healthy and h.ok > 0 for h in recap.values())


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


# The playbook's retries and a kubespray ref change, on node1's converged kubespray (after the
# notebook, which needs the converged lab as the two runs above left it).


def test_fab_cluster_reruns_a_transient_failure(fresh_lab: Lab, second_up):
    lab = fresh_lab
    lab.ssh("node2", "sudo rm -f /tmp/gourmetops-flaky-marker")
    lab.put("node1", PLAYBOOKS / "flaky.yml", "/tmp/flaky.yml")
    result = lab.fab("cluster", "--playbook", "/tmp/flaky.yml", "--retries", "1")
    assert result.returncode == 0, result.stdout[-3000:]
    assert (
        "attempt 1 failed: failed hosts: node2 (failed=1); "
        "first failed task: Fail once on node2 on node2" in result.stdout
    )
    assert "attempt 2/2" in result.stdout


def test_fab_cluster_gives_up_naming_host_and_task(fresh_lab: Lab, second_up):
    lab = fresh_lab
    lab.put("node1", PLAYBOOKS / "broken.yml", "/tmp/broken.yml")
    result = lab.fab("cluster", "--playbook", "/tmp/broken.yml", "--retries", "1")
    assert result.returncode != 0
    assert "attempt 2/2" in result.stdout and "attempt 3" not in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert "failed after 2 attempt(s)" in last
    assert "node2 (failed=1)" in last
    assert "Configure something that cannot work on node2 on node2" in last


def test_a_different_ref_moves_the_checkout(fresh_lab: Lab, second_up, tmp_path):
    """A bundle with a newer branch: same deploy, other ref, node1 follows; back again."""
    lab = fresh_lab
    work = tmp_path / "ks"
    subprocess.run(
        ["git", "clone", "-q", "--branch", "release-2.26", KUBESPRAY, str(work)], check=True
    )
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@lab"]
    subprocess.run([*git, "checkout", "-q", "-b", "gourmetops-test"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "newer"], check=True)
    newer = subprocess.run(
        [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    derived = tmp_path / "kubespray-derived.bundle"
    subprocess.run(
        [*git, "bundle", "create", "-q", str(derived), "release-2.26", "gourmetops-test"],
        check=True,
    )

    moved = lab.pyinfra(
        "kubespray",
        "--data",
        f"kubespray_source={derived}",
        "--data",
        "kubespray_ref=gourmetops-test",
    )
    assert moved.returncode == 0, moved.stdout[-3000:]
    assert lab.out("node1", "git -C kubespray rev-parse HEAD") == newer

    back = lab.fab("kubespray")
    assert back.returncode == 0, back.stdout[-3000:]
    assert lab.out("node1", "git -C kubespray rev-parse --abbrev-ref HEAD") == "release-2.26"
