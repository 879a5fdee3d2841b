"""A node that cannot be reached: the run names it and fails, the other nodes still
converge, and a rerun once it is back converges everywhere."""

from __future__ import annotations

import pytest

from tests.labtools import Lab, results_total


@pytest.fixture(scope="module")
def node2_down(fresh_lab: Lab):
    fresh_lab.console("node2", "systemctl stop ssh.service")
    yield fresh_lab
    fresh_lab.console("node2", "systemctl start ssh.service")


def test_down_node_is_named_and_the_others_converge(node2_down: Lab):
    lab = node2_down
    proc = lab.fab("prepare")
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "prepare failed on target lab: node2: could not connect over SSH" in proc.stdout
    pubkey = lab.out("node1", "cat ~/.ssh/id_rsa.pub")
    assert lab.out("node3", "cat ~/.ssh/authorized_keys").splitlines().count(pubkey) == 1
    for node in ("node1", "node3"):
        assert lab.out(node, "systemctl is-active firewalld || true") == "inactive"
    assert lab.out("node1", "ssh -o BatchMode=yes node3 hostname") == "node3"
    known = lab.out("node1", "cat ~/.ssh/known_hosts")
    assert "node3,10.254.1.13 " in known and "node2," not in known
    assert "no SSH host key from node2" in proc.stdout


def test_rerun_after_the_node_is_back_converges(node2_down: Lab):
    lab = node2_down
    lab.console("node2", "systemctl start ssh.service")
    proc = lab.pyinfra("prepare")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert results_total(proc.stdout)["error"] == "-"
    assert lab.out("node2", "systemctl is-active firewalld || true") == "inactive"
    assert lab.out("node1", "ssh -o BatchMode=yes node2 hostname") == "node2"
    proc = lab.pyinfra("prepare")
    assert results_total(proc.stdout)["success"] == "-", proc.stdout[-3000:]
