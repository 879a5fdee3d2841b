"""Nodes unlike the stock image, made so on the lab as an admin would, then reset for later
modules:
- node3 without firewalld (apt remove): prepare converges there and says so, and the other
  nodes still get firewalld stopped and disabled;
- node1's sshd started from ssh.socket (as Ubuntu 24.04 does): the jump-host drop-in is
  reloaded into the daemon the socket started, and node1 stays reachable;
- node3's sshd under RHEL's unit name, then none running: the reload command's other
  branches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gourmetops import lab as labmod
from gourmetops.facts import SystemdUnit
from gourmetops.jump import RELOAD_SSHD, SSHD_DROPIN, max_startups
from gourmetops.waiting import wait_until
from tests.labtools import Lab, results_total

SIGHUPS = "journalctl -b -u ssh.service -o cat | grep -c 'Received SIGHUP' || true"


@pytest.fixture(scope="module")
def unusual(fresh_lab: Lab) -> Iterator[Lab]:
    fresh_lab.console("node3", "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q firewalld")
    fresh_lab.console("node1", "systemctl disable -q --now ssh.service")
    fresh_lab.console("node1", "systemctl enable -q --now ssh.socket")
    yield fresh_lab
    labmod.reset(fresh_lab.target)


@pytest.fixture(scope="module")
def prepared(unusual: Lab) -> tuple[Lab, str, int]:
    """prepare's first run, and how often ssh.service had been told to reload before it."""
    assert unusual.out("node1", "systemctl is-enabled ssh.service || true") == "disabled"
    assert unusual.out("node1", "systemctl is-active ssh.socket") == "active"
    sighups = int(unusual.out("node1", f"sudo sh -c {SIGHUPS!r}"))
    proc = unusual.pyinfra("prepare", "-v")
    assert proc.returncode == 0, proc.stdout[-3000:]
    return unusual, proc.stdout, sighups


def test_socket_started_sshd_is_reloaded_and_node1_still_answers(prepared):
    lab, out, sighups = prepared
    assert "Reload sshd (open sessions stay)" in out
    # journald gets sshd's line a moment after the reload: read until it is there (30 s
    # bound, for a line that never comes), then it must be exactly one.
    counted = wait_until(
        lambda: (n := int(lab.out("node1", f"sudo sh -c {SIGHUPS!r}"))) > sighups and n or None,
        30,
        0.2,
    )
    assert counted == sighups + 1
    assert lab.out("node1", "systemctl is-active ssh.socket ssh.service") == "active\nactive"
    assert lab.out("node1", f"sudo cat {SSHD_DROPIN}").endswith(f"MaxStartups {max_startups(3)}")
    assert lab.out("node2", "hostname") == "node2"  # through node1's socket-started sshd


def test_prepare_converges_on_a_node_without_firewalld(prepared):
    lab, out, _ = prepared
    assert "[node3] noop: firewalld: not installed, nothing to stop" in out
    assert lab.out("node3", "systemctl list-unit-files --no-legend firewalld.service || true") == ""
    for node in ("node1", "node2"):
        assert lab.out(node, "systemctl is-active firewalld || true") == "inactive", node
        assert lab.out(node, "systemctl is-enabled firewalld || true") == "disabled", node
    again = lab.pyinfra("prepare")
    assert results_total(again.stdout)["success"] == "-", again.stdout[-3000:]


RHEL_SSHD_UNIT = """[Unit]
Description=OpenSSH server daemon, under RHEL's unit name
[Service]
ExecStartPre=/usr/sbin/sshd -t
ExecStart=/usr/sbin/sshd -D
ExecReload=/bin/kill -HUP $MAINPID
RuntimeDirectory=sshd
"""


def test_the_reload_finds_rhels_sshd_service_and_passes_when_no_daemon_runs(prepared):
    """The other two branches of the reload command, on node3 through its console (its own
    sshd is what changes): an sshd run as `sshd.service`, RHEL's name (Debian's alias of
    ssh.service removed, a unit of that name written), is the one reloaded; with no daemon
    at all the command says so and succeeds. The module's fixture resets node3 after."""
    lab = prepared[0]
    unit = "/etc/systemd/system/sshd.service"
    lab.console("node3", f"systemctl disable -q --now ssh.service; rm -f {unit}")
    lab.console("node3", f"cat > {unit} <<'EOF'\n{RHEL_SSHD_UNIT}EOF\n")
    lab.console("node3", "systemctl daemon-reload && systemctl start sshd.service")
    sighups = "journalctl -b -u sshd.service -o cat | grep -c 'Received SIGHUP' || true"
    assert lab.console("node3", sighups).strip() == "0"
    assert lab.console("node3", RELOAD_SSHD).strip() == ""
    # The journal gets sshd's line a moment after systemctl returns: polled for at most
    # 30 s, a bound only a missing reload reaches.
    wait_until(lambda: lab.console("node3", sighups).strip() == "1" or None, 30, 0.1)
    assert lab.console("node3", sighups).strip() == "1"
    assert lab.console("node3", "systemctl is-active ssh.service || true").strip() == "inactive"
    lab.console("node3", "systemctl stop sshd.service")
    said = lab.console("node3", RELOAD_SSHD).strip()
    assert said.startswith("no sshd daemon to reload"), said


def test_the_unit_fact_reads_systemctl_and_the_no_systemd_marker():
    """The parsing half of the fact; a node whose PID 1 is not systemd cannot be made in
    the lab (every node boots systemd), so that branch is checked on its marker line."""
    fact = SystemdUnit()
    assert fact.process(["no-systemd"]) is None
    lines = ["LoadState=loaded", "ActiveState=inactive", "SubState=dead", "UnitFileState=disabled"]
    assert fact.process(lines) == {
        "LoadState": "loaded",
        "ActiveState": "inactive",
        "SubState": "dead",
        "UnitFileState": "disabled",
    }
    assert "SubState" in fact.command("firewalld.service").get_raw_value()
