"""deploys/prepare.py on pristine lab nodes, run through `fab prepare`, then checked on
the nodes themselves over SSH."""

from __future__ import annotations

import shlex
import socket
import subprocess

import pytest

from gourmetops.jump import SSHD_DROPIN, sshd_dropin
from gourmetops.settings import host_settings
from tests.labtools import Lab, results_total

DOCKER_PACKAGES = host_settings("lab").docker_packages


def installed(lab: Lab, node: str, package: str) -> bool:
    proc = lab.ssh(node, f"dpkg-query -W -f '${{Status}}' {package}", check=False)
    return proc.stdout.strip() == "install ok installed"


@pytest.fixture(scope="module")
def before(fresh_lab: Lab) -> dict[str, dict[str, str]]:
    """What the pristine nodes look like: the state the tutorial starts from."""
    return {
        node: {
            "firewalld": fresh_lab.out(node, "systemctl is-active firewalld || true"),
            "enabled": fresh_lab.out(node, "systemctl is-enabled firewalld || true"),
        }
        for node in fresh_lab.nodes
    }


@pytest.fixture(scope="module")
def first_run(fresh_lab: Lab, before) -> subprocess.CompletedProcess[str]:
    assert all(installed(fresh_lab, "node1", p) for p in DOCKER_PACKAGES)
    proc = fresh_lab.fab("prepare", "--target", "lab")
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc


def test_firewalld_was_running_and_is_now_stopped_and_disabled(fresh_lab, before, first_run):
    for node in fresh_lab.nodes:
        assert before[node] == {"firewalld": "active", "enabled": "enabled"}, node
        assert fresh_lab.out(node, "systemctl is-active firewalld || true") == "inactive", node
        assert fresh_lab.out(node, "systemctl is-enabled firewalld || true") == "disabled", node


def test_cluster_key_on_node1_only_and_private(fresh_lab, first_run):
    assert fresh_lab.out("node1", "stat -c '%a %U' ~/.ssh/id_rsa") == "600 cc"
    assert fresh_lab.out("node1", "head -c 30 ~/.ssh/id_rsa.pub").startswith("ssh-rsa ")
    assert fresh_lab.out("node1", "ssh-keygen -l -f ~/.ssh/id_rsa.pub").split()[0] == "4096"
    for node in ("node2", "node3"):
        assert fresh_lab.ssh(node, "test -e ~/.ssh/id_rsa", check=False).returncode == 1


def test_node1_key_authorised_exactly_once_everywhere(fresh_lab, first_run):
    pubkey = fresh_lab.out("node1", "cat ~/.ssh/id_rsa.pub")
    for node in fresh_lab.nodes:
        lines = fresh_lab.out(node, "cat ~/.ssh/authorized_keys").splitlines()
        assert lines.count(pubkey) == 1, node


def test_node1_reaches_every_node_with_its_key_and_pinned_host_keys(fresh_lab, first_run):
    """The real proof of the key and known_hosts steps: strict host key checking, only
    node1's own key, no agent (none is forwarded from the controller)."""
    for node in fresh_lab.target.cluster.nodes:
        for name in (str(node.address), node.name):
            hostname = fresh_lab.out(
                "node1",
                "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes "
                f"-i ~/.ssh/id_rsa {name} hostname",
            )
            assert hostname == node.name


def test_docker_packages_and_source_gone_from_node1(fresh_lab, first_run):
    for package in DOCKER_PACKAGES:
        assert not installed(fresh_lab, "node1", package), package
    assert (
        fresh_lab.ssh(
            "node1", "test -e /etc/apt/sources.list.d/docker.list", check=False
        ).returncode
        == 1
    )


def test_workers_only_reachable_through_node1(fresh_lab, first_run):
    for node in fresh_lab.target.cluster.workers:
        with pytest.raises(OSError):
            socket.create_connection((str(node.address), 22), timeout=3).close()
        assert fresh_lab.out(node.name, "hostname") == node.name  # via ProxyJump node1


def test_second_run_changes_nothing(fresh_lab, first_run):
    proc = fresh_lab.pyinfra("prepare")
    assert proc.returncode == 0, proc.stdout[-3000:]
    total = results_total(proc.stdout)
    assert total["success"] == "-" and total["error"] == "-", proc.stdout[-3000:]
    assert total["no_change"] == total["hosts"]


def test_drift_since_is_seen_put_back_then_nothing_more(fresh_lab, first_run):
    """What a user or a stray script may change between runs, each kind the planning read
    must see (gourmetops.in_place; every field is in tests/test_in_place.py), on real nodes:
    one rerun puts all of it back, and the run after changes nothing."""
    lab = fresh_lab
    known_hosts = lab.out("node1", "cat ~/.ssh/known_hosts")
    key = shlex.quote(lab.out("node1", "cat ~/.ssh/id_rsa.pub").split()[1])
    lab.ssh("node1", "chmod 755 ~/.ssh && chmod 644 ~/.ssh/id_rsa")
    lab.ssh("node1", "sed -i '/# BEGIN gourmetops cluster nodes/{n;d}' ~/.ssh/known_hosts")
    lab.ssh("node1", f"echo 'MaxStartups 10:30:60' | sudo tee {SSHD_DROPIN} >/dev/null")
    lab.ssh("node1", "sudo touch /etc/apt/sources.list.d/docker.list")
    keys = "~/.ssh/authorized_keys"
    lab.ssh("node2", f"grep -vF {key} {keys} > k; cat k > {keys}; rm k")
    lab.ssh("node3", f"chmod 640 {keys} && sudo systemctl start firewalld")
    assert lab.out("node2", f"grep -cF {key} {keys} || true") == "0"

    rerun = lab.pyinfra("prepare")
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert results_total(rerun.stdout)["success"] != "-", rerun.stdout[-3000:]
    assert lab.out("node1", "stat -c %a ~/.ssh ~/.ssh/id_rsa").split() == ["700", "600"]
    assert lab.out("node1", "cat ~/.ssh/known_hosts") == known_hosts
    assert lab.out("node1", f"cat {SSHD_DROPIN}") == sshd_dropin(3).strip()
    assert lab.ssh("node1", "test -e /etc/apt/sources.list.d/docker.list", check=False).returncode
    assert lab.out("node2", f"grep -cF {key} {keys}") == "1"
    assert lab.out("node3", f"stat -c %a {keys}") == "600"
    assert lab.out("node3", "systemctl is-active firewalld || true") == "inactive"

    again = lab.pyinfra("prepare")
    assert results_total(again.stdout)["success"] == "-", again.stdout[-3000:]
