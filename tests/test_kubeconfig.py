"""`fab kubeconfig`: root's kubeconfig given to cc on node1, fetched to the controller with
its server pointed at the SSH tunnel, and the nodes' readiness checked.

The lab has no Kubernetes: the test plants on node1 what kubespray leaves there (a kubeadm
admin kubeconfig in /root/.kube) and a stub `kubectl` that answers `get nodes -o json` with
recorded output (tests/fixtures/kubernetes). The copy, ownership, fetch and rewrite are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from gourmetops.app.kubeconfig import (
    KubeconfigError,
    rewrite_server,
    tunnel_command,
)
from gourmetops.kubespray.readiness import NodeListError, node_states, not_ready
from gourmetops.targets import chameleon_target
from tests.labtools import Lab

FIXTURES = Path(__file__).parent / "fixtures" / "kubernetes"
STUB_KUBECTL = """#!/bin/sh
# Stand-in for kubectl on the lab (no API server): needs the kubeconfig kubectl would read.
test -r "$HOME/.kube/config" || { echo "no readable $HOME/.kube/config" >&2; exit 1; }
cat /etc/gourmetops-test/nodes.json
"""


def test_rewrite_points_every_cluster_at_the_tunnel_and_keeps_the_rest():
    original = (FIXTURES / "admin.conf").read_text()
    rewritten = rewrite_server(original, 16443)
    before, after = YAML().load(original), YAML().load(rewritten)
    assert after["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:16443"
    after["clusters"][0]["cluster"]["server"] = before["clusters"][0]["cluster"]["server"]
    assert after == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1\n", "not valid YAML"),
        ("apiVersion: v1\nkind: Config\n", "no clusters"),
        ("clusters:\n- name: c\n  cluster: {server: 'http://x:8080'}\n", "is not https"),
    ],
)
def test_rewrite_refuses_what_it_cannot_point_at_the_tunnel(text, message):
    with pytest.raises(KubeconfigError, match=message):
        rewrite_server(text, 16443, where="node1:~/.kube/config")


def test_readiness_from_a_node_list():
    states = node_states((FIXTURES / "nodes-node3-notready.json").read_text())
    assert {n: ready for n, (ready, _v) in states.items()} == {
        "node1": True,
        "node2": True,
        "node3": False,
    }
    assert not_ready(states, ["node1", "node3", "node4"]) == [
        "node3 (NotReady)",
        "node4 (not registered)",
    ]
    with pytest.raises(NodeListError):
        node_states("{}")


def test_tunnel_forwards_to_the_api_server_on_node1():
    """The command's shape (built for Chameleon with a loopback floating IP: the lab's
    target refuses to give any command while its lab is down, tests/test_lab.py)."""
    target = chameleon_target(env={"GOURMETOPS_FLOATING_IP": "127.0.0.10"})
    cfg = str(target.ssh_config_path)
    assert tunnel_command(target, 16443) == [
        "ssh", "-F", cfg, "-N", "-L", "127.0.0.1:16443:127.0.0.1:6443", "node1",
    ]  # fmt: skip
    # As the tunnel runs it here: no prompt, and an exit if the port cannot be forwarded.
    assert tunnel_command(target, 16443, batch=True) == [
        "ssh", "-F", cfg, "-o", "BatchMode=yes", "-N", "-L", "127.0.0.1:16443:127.0.0.1:6443",
        "-o", "ExitOnForwardFailure=yes", "node1",
    ]  # fmt: skip


@pytest.fixture
def node1(lab: Lab) -> Lab:
    lab.console("node1", "rm -rf /root/.kube /home/cc/.kube /etc/gourmetops-test")
    return lab


def plant(lab: Lab, nodes_json: str) -> None:
    lab.put("node1", FIXTURES / "admin.conf", "/tmp/admin.conf")
    lab.put("node1", FIXTURES / nodes_json, "/tmp/nodes.json")
    stub = Path(lab.target.state_dir) / "kubectl-stub"
    stub.write_text(STUB_KUBECTL)
    lab.put("node1", stub, "/tmp/kubectl")
    lab.console(
        "node1",
        "mkdir -p /root/.kube /etc/gourmetops-test"
        " && install -m 600 /tmp/admin.conf /root/.kube/config"
        " && install -m 644 /tmp/nodes.json /etc/gourmetops-test/nodes.json"
        " && install -m 755 /tmp/kubectl /usr/local/bin/kubectl",
    )


def test_without_kubernetes_it_says_so(node1: Lab):
    result = node1.fab("kubeconfig")
    assert result.returncode != 0
    assert "node1: no /root/.kube/config; has `fab cluster` installed Kubernetes?" in result.stdout


def test_fetches_kubeconfig_for_the_tunnel_and_checks_nodes(node1: Lab):
    plant(node1, "nodes-ready.json")
    local = node1.target.state_dir / "kubeconfig"
    local.unlink(missing_ok=True)
    result = node1.fab("kubeconfig", "--port", "17443")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "nodes Ready: node1, node2, node3" in result.stdout
    assert "-L 127.0.0.1:17443:127.0.0.1:6443 node1" in result.stdout
    assert node1.out("node1", "stat -c '%U %a' .kube/config") == "cc 600"
    assert node1.out("node1", "cat .kube/config") == (FIXTURES / "admin.conf").read_text().strip()
    fetched = YAML().load(local.read_text())
    assert fetched["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:17443"
    assert oct(local.stat().st_mode & 0o777) == "0o600"


def test_names_the_node_that_is_not_ready(node1: Lab):
    plant(node1, "nodes-node3-notready.json")
    result = node1.fab("kubeconfig")
    assert result.returncode != 0
    assert "nodes not Ready: node3 (NotReady)" in result.stdout
