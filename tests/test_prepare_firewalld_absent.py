"""A node without firewalld is fine: prepare converges there and says so, and the other
nodes still get firewalld stopped and disabled. On the lab, firewalld is really removed
from node3 (apt, as an admin would), then the lab is reset for later modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gourmetops import lab as labmod
from gourmetops.facts import SystemdUnit
from tests.labtools import Lab, results_total


@pytest.fixture(scope="module")
def node3_without_firewalld(fresh_lab: Lab) -> Iterator[Lab]:
    fresh_lab.console("node3", "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q firewalld")
    yield fresh_lab
    labmod.reset(fresh_lab.target)


def test_prepare_converges_on_a_node_without_firewalld(node3_without_firewalld: Lab):
    lab = node3_without_firewalld
    proc = lab.pyinfra("prepare", "-v")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "[node3] noop: firewalld: not installed, nothing to stop" in proc.stdout
    assert lab.out("node3", "systemctl list-unit-files --no-legend firewalld.service || true") == ""
    for node in ("node1", "node2"):
        assert lab.out(node, "systemctl is-active firewalld || true") == "inactive", node
        assert lab.out(node, "systemctl is-enabled firewalld || true") == "disabled", node
    again = lab.pyinfra("prepare")
    assert results_total(again.stdout)["success"] == "-", again.stdout[-3000:]


def test_the_unit_fact_reads_systemctl_and_the_no_systemd_marker():
    """The parsing half of the fact; a node whose PID 1 is not systemd cannot be made in
    the lab (every node boots systemd), so that branch is checked on its marker line."""
    fact = SystemdUnit()
    assert fact.process(["no-systemd"]) is None
    assert fact.process(["LoadState=loaded", "ActiveState=inactive", "UnitFileState=disabled"]) == {
        "LoadState": "loaded",
        "ActiveState": "inactive",
        "UnitFileState": "disabled",
    }
