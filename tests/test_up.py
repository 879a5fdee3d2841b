"""`fab up --target lab` for real on pristine lab nodes: every stage runs in order and
leaves its state on the nodes; a second `fab up` changes nothing and builds nothing."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.labtools import Lab

# What each stage prints when it runs, in the order `fab up` runs them.
STAGES = {
    "prepare": "deploys/prepare.py -y",
    "kubespray": "deploys/kubespray.py -y",
    "cluster": "==> playbooks/facts.yml: ",
    "registry": "deploys/registry.py -y",
    "image": "==> image: ",
    # the lab's cluster stage installs no Kubernetes
    "kubeconfig, rollout": "==> kubeconfig, rollout: skipped",
}


@pytest.fixture(scope="module")
def first_up(fresh_lab: Lab) -> subprocess.CompletedProcess[str]:
    result = fresh_lab.fab("up", "--target", "lab")
    assert result.returncode == 0, result.stdout[-5000:]
    return result


@pytest.fixture(scope="module")
def second_up(fresh_lab: Lab, first_up) -> subprocess.CompletedProcess[str]:
    result = fresh_lab.fab("up", "--target", "lab")
    assert result.returncode == 0, result.stdout[-5000:]
    return result


def stage_positions(output: str) -> list[int]:
    positions = []
    for stage, marker in STAGES.items():
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
    line = next(x for x in output.splitlines() if x.startswith(STAGES["cluster"]))
    return {m[1]: int(m[2]) for m in re.finditer(r"(\w+) ok=\d+ changed=(\d+)", line)}


def test_every_stage_runs_in_order(first_up):
    positions = stage_positions(first_up.stdout)
    assert positions == sorted(positions)
    assert "==> image: built" in first_up.stdout
    assert len(pyinfra_totals(first_up.stdout)) == 3  # prepare, kubespray, registry


def test_every_stage_left_its_state_on_the_nodes(fresh_lab: Lab, first_up):
    for node in fresh_lab.nodes:
        assert fresh_lab.out(node, "systemctl is-active firewalld || true") == "inactive", node
        assert "node1:5000" in fresh_lab.out(node, "cat /etc/docker/daemon.json"), node
    assert fresh_lab.out("node1", "stat -c %a ~/.ssh/id_rsa") == "600"
    fresh_lab.ssh("node1", "test -f kubespray/inventory/mycluster/hosts.yaml")  # raises if not
    assert fresh_lab.out("node1", "systemctl is-active docker-registry") == "active"
    # The playbook reached all three nodes through node1.
    assert set(playbook_changes(first_up.stdout)) == set(fresh_lab.nodes)
    catalog = fresh_lab.fab("catalog")
    assert re.search(r"gourmetgram-app: dir-\w+, latest", catalog.stdout), catalog.stdout


def test_second_up_changes_nothing_and_builds_nothing(second_up):
    out = second_up.stdout
    positions = stage_positions(out)
    assert positions == sorted(positions)
    totals = pyinfra_totals(out)
    assert len(totals) == 3, out[-3000:]
    for (hosts, success, error, no_change), table in totals:
        assert (success, error, no_change) == ("-", "-", hosts), table
    assert set(playbook_changes(out).values()) == {0}, out[-3000:]
    assert "==> image: unchanged" in out and "podman build" not in out
