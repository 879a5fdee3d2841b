"""`fab check`, `fab up`'s pre-checks and `fab logs` on the lab's real nodes, each failure
caused for real and undone: a listener on a needed port, a wrong hostname, /etc/hosts
without node1, an unreachable node (its sshd stopped, as test_prepare_node_down does), an
old Docker package and docker.list on node1. What the lab cannot cause (swap, missing
kernel modules, low memory, another OS release, clock skew: the nodes share one host
kernel and clock) is tested on recorded node output in tests/test_check_parse.py."""

from __future__ import annotations

import base64
import re
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gourmetops import STATE_DIR
from tests.labtools import Lab, check_row, secret_holders

PRE_ROWS = 15  # checks per node (gourmetops.check.rows.PRE_CHECKS)
TOOK = re.compile(r"pre-checks \(lab, (\d+\.\d) s\):")


def failed_row(lab: Lab, node: str, check: str) -> str:
    """`fab check` exits 1 and `node`'s `check` row failed: that row and its fix."""
    proc = lab.fab("check")
    assert proc.returncode == 1, proc.stdout[-4000:]
    line = check_row(proc.stdout, node, check)
    assert "  FAIL  " in line.splitlines()[0], line
    return line


@contextmanager
def on_console(lab: Lab, node: str, do: str, undo: str) -> Iterator[Lab]:
    """A failure caused as root on `node`'s console, undone afterwards."""
    lab.console(node, do)
    try:
        yield lab
    finally:
        lab.console(node, undo)


@pytest.fixture(scope="module")
def healthy(docker_lab: Lab) -> Lab:
    """Prepared nodes with the container engine: what `fab check` must find healthy."""
    return docker_lab


def test_healthy_lab_exits_0_every_row_ok(healthy: Lab):
    proc = healthy.fab("check", "--target", "lab")
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:]
    for node in healthy.nodes:
        for check in ("ssh", "os", "memory", "disk", "clock", "hostname", "resolve",
                      "ports-free", "ports-reach", "leftovers", "firewalld"):  # fmt: skip
            line = check_row(out, node, check)
            assert " ok " in line.splitlines()[0], line
        for check in ("swap", "modules"):  # the lab's own skips, with the reason
            assert "skip  skipped: lab nodes share the host's kernel" in check_row(out, node, check)
    assert " 0 failed, 6 skipped" in out
    assert TOOK.search(out)  # the time is said; benchmarks/check_time.py measures it


@pytest.fixture
def listener(healthy: Lab):
    """python3's http.server on node2's kubelet port (10250), stopped by its PID."""
    server = "python3 -m http.server 10250 --bind 0.0.0.0"
    with healthy.serving("node2", server, 10250, "check-listener"):
        yield healthy


def test_listener_on_a_needed_port(listener: Lab):
    line = failed_row(listener, "node2", "ports-free")
    assert "taken: 10250 by python3 (pid" in line and "sudo ss -ltnp" in line
    skipped = listener.fab("check", "--skip-check", "ports-free")
    assert skipped.returncode == 0, skipped.stdout[-4000:]
    assert "skip  skipped: --skip-check" in check_row(skipped.stdout, "node2", "ports-free")


def test_fab_up_refuses_before_any_change(listener: Lab):
    logs = STATE_DIR / "lab" / "logs"
    before = set(logs.glob("*.log")) if logs.is_dir() else set()
    proc = listener.fab("up", "--target", "lab")
    out = proc.stdout
    assert proc.returncode == 1, out[-4000:]
    assert "fab up stopped before any change: pre-check failed (node2 ports-free)" in out
    assert "FAIL" in check_row(out, "node2", "ports-free")
    assert "==> stage 1/" not in out and "deploys/prepare.py" not in out
    new = {p.name for p in (set(logs.glob("*.log")) - before)}
    assert all(name.startswith("up-") for name in new), new  # no stage ran, no stage log


def test_wrong_hostname(healthy: Lab):
    with on_console(healthy, "node3", "hostname node3-wrong", "hostname node3"):
        line = failed_row(healthy, "node3", "hostname")
    assert "FAIL  hostname node3-wrong" in line and "set-hostname node3" in line


def test_etc_hosts_without_node1(healthy: Lab):
    do = "cp /etc/hosts /etc/hosts.check-bak && sed -i '/ node1$/d' /etc/hosts"
    with on_console(healthy, "node2", do, "mv /etc/hosts.check-bak /etc/hosts"):
        line = failed_row(healthy, "node2", "resolve")
    # the lab's cluster stage runs no kubespray preinstall: nothing would write /etc/hosts
    assert "FAIL  unresolved: node1" in line and "preinstall" not in line.splitlines()[0]
    assert "add to /etc/hosts on node2: 10.254.1.11 node1" in line


def test_unreachable_node(healthy: Lab):
    with on_console(healthy, "node3", "systemctl stop ssh.service", "systemctl start ssh.service"):
        proc = healthy.fab("check")
    out = proc.stdout
    assert proc.returncode == 1, out[-4000:]
    line = check_row(out, "node3", "ssh")
    assert "FAIL  not reached through node1 (ProxyJump)" in line and "Connection refused" in line
    assert "node3  os" not in out  # nothing else is judged for it
    for node in ("node1", "node2"):  # the others are still checked, ports between them too
        assert " ok " in check_row(out, node, "ports-reach")


@pytest.fixture
def old_docker(healthy: Lab):
    """docker-compose-plugin (built with dpkg-deb, like the lab's stand-ins) and docker.list
    on node1, as the tutorial's Docker section leaves them; not docker-ce-cli, which the
    engine these nodes already run (docker.io) refuses to sit beside."""
    healthy.ssh(
        "node1",
        "set -e; d=$(mktemp -d); mkdir $d/DEBIAN; printf 'Package: docker-compose-plugin"
        "\\nVersion: 5:27.0.0-check\\nArchitecture: all\\nMaintainer: t <t@t>\\n"
        "Description: old docker\\n' > $d/DEBIAN/control; dpkg-deb -b $d /tmp/old.deb "
        ">/dev/null; sudo dpkg -i /tmp/old.deb >/dev/null; "
        "echo 'deb https://download.docker.com/linux/debian bookworm stable' | "
        "sudo tee /etc/apt/sources.list.d/docker.list >/dev/null",
    )
    yield healthy
    healthy.ssh(
        "node1",
        "sudo dpkg --purge docker-compose-plugin; sudo rm -f /etc/apt/sources.list.d/docker.list",
        check=False,
    )


def test_old_docker_package_present(old_docker: Lab):
    line = failed_row(old_docker, "node1", "leftovers")
    assert "FAIL  present: docker-compose-plugin, /etc/apt/sources.list.d/docker.list" in line
    assert "`fab prepare` removes them" in line


PASSWORD = "gourmetopsPlant7Q2x"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaGVjayJ9.cGxhbnRlZA"


def test_logs_bundle_has_no_planted_secret(healthy: Lab, tmp_path: Path):
    auth = base64.b64encode(f"gourmet:{PASSWORD}".encode()).decode()
    # the password in node1's sshd journal (a login attempt with it as the user name)...
    healthy.ssh(
        "node2",
        f"ssh -o BatchMode=yes -o StrictHostKeyChecking=no "
        f"-o UserKnownHostsFile=/dev/null {PASSWORD}@node1 true",
        check=False,
    )
    # journald writes sshd's line a moment after the attempt returns: the bundle is taken
    # once it is there (an event; the 30 s bound is only for a line that never comes).
    healthy.ssh(
        "node1",
        "for i in $(seq 300); do sudo journalctl -u ssh.service -o cat | "
        f"grep -q 'Invalid user {PASSWORD}' && exit 0; sleep 0.1; done; exit 1",
    )
    # ...and in files the bundle must never read wholesale
    healthy.ssh(
        "node1",
        "sudo mkdir -p /root/.kube /root/.docker && "
        f"printf 'users:\\n- user:\\n    token: {TOKEN}\\n' | sudo tee /root/.kube/config "
        f'>/dev/null && printf \'{{"auths":{{"node1:5000":{{"auth":"{auth}"}}}}}}\' | '
        "sudo tee /root/.docker/config.json >/dev/null",
    )
    key_line = healthy.out("node1", "sed -n 2p ~/.ssh/id_rsa")  # prepare's real cluster key
    plant = STATE_DIR / "lab" / "logs" / "zz-check-plant.log"
    plant.parent.mkdir(parents=True, exist_ok=True)
    plant.write_text(
        f"Authorization: Bearer {TOKEN}\npassword={PASSWORD}\n{auth}\n"
        f"-----BEGIN RSA PRIVATE KEY-----\n{key_line}\n"
        "-----END RSA PRIVATE KEY-----\n"
    )
    try:
        out = tmp_path / "bundle.tar.gz"
        proc = healthy.fab(
            "logs",
            "--target",
            "lab",
            "--out",
            str(out),
            env={"GOURMETOPS_REGISTRY_PASSWORD": PASSWORD, "GOURMETOPS_REGISTRY_USER": "gourmet"},
        )
        assert proc.returncode == 0, proc.stdout[-4000:]
        with tarfile.open(out) as tar:
            tar.extractall(tmp_path / "x", filter="data")
    finally:
        plant.unlink()
        healthy.ssh("node1", "sudo rm -f /root/.kube/config /root/.docker/config.json", check=False)
    top = tmp_path / "x" / "bundle"
    assert secret_holders([PASSWORD, auth, TOKEN, key_line], {}, [top]) == []
    journal = (top / "node1" / "journal-ssh.txt").read_text()
    assert not (top / "node1" / "journal-sshd.txt").exists()  # Debian's alias of ssh.service
    assert "Invalid user [REDACTED]" in journal  # collected, and redacted
    assert "[REDACTED PRIVATE KEY]" in (top / "controller/logs/zz-check-plant.log").read_text()
    assert (top / "node2" / "daemon.json.txt").read_text().strip().startswith("{")
    assert {"node1", "node2", "node3"} <= {p.name for p in top.iterdir()}
    assert "| node1/journal-docker.txt | node1 | journal-docker |" in (top / "index.md").read_text()
