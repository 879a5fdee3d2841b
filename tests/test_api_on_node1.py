"""The whole client path to the API server, on the lab: the API STAND-IN (tests/kube_standin)
serves HTTPS with a cluster CA and a bearer token on node1's 127.0.0.1:6443, where kubespray's
kube-apiserver listens; node1 has the admin kubeconfig in /root/.kube/config and the real
kubectl v1.32 binary, as kubespray leaves them.

- `fab kubeconfig` copies it to cc, fetches it and lists the nodes with that real kubectl on
  node1 (TLS verified against the CA, the token sent);
- `fab rollout`, `scale`, `autoscale`, `status` and `teardown` reach it only through the real
  `ssh -L 127.0.0.1:16443:127.0.0.1:6443 node1` tunnel: nothing else on the controller can
  reach node1's loopback.

What is stood in for: the API server itself (tests/kube_standin, its differences in
README.md). The stand-in process runs from the controller's Python in node1's network
namespace (`ip netns exec`), because node1 has neither the kubernetes client nor jsonschema;
to everything on the network it is node1's 127.0.0.1:6443.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from gourmetops import PROJECT_ROOT
from gourmetops.app.kubeconfig import DEFAULT_LOCAL_PORT
from gourmetops.app.tunnel import port_open
from gourmetops.lab.network import node_ns
from tests.kube_standin.certs import admin_kubeconfig, certificates
from tests.labtools import Lab

KUBECTL = Path("/usr/bin/kubectl")
NS = "kube-gourmetgram"


@pytest.fixture(scope="module")
def api_on_node1(lab: Lab, tmp_path_factory) -> Iterator[tuple[Lab, str]]:
    """The stand-in on node1:6443 with TLS and a token; node1 set up as kubespray leaves it."""
    tmp = tmp_path_factory.mktemp("api")
    token = secrets.token_hex(16)
    ca, crt, key = certificates(tmp)
    proc = subprocess.Popen(
        ["ip", "netns", "exec", node_ns("node1"), sys.executable, "-m", "tests.kube_standin",
         "--host", "127.0.0.1", "--port", "6443", "--cert", str(crt), "--key", str(key),
         "--token", token, "--step", "5"],
        cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "https://127.0.0.1:6443"
        admin = tmp / "admin.conf"
        admin.write_text(admin_kubeconfig(ca, "https://127.0.0.1:6443", token))
        lab.put("node1", admin, "/tmp/admin.conf")
        lab.put("node1", KUBECTL, "/tmp/kubectl")
        lab.console(
            "node1",
            "rm -rf /root/.kube /home/cc/.kube && mkdir -p /root/.kube"
            " && install -m 600 /tmp/admin.conf /root/.kube/config && rm /tmp/admin.conf"
            " && install -m 755 /tmp/kubectl /usr/local/bin/kubectl && rm /tmp/kubectl",
        )
        yield lab, token
    finally:
        proc.terminate()
        summary = json.loads(proc.communicate(timeout=10)[0].strip().splitlines()[-1])
        lab.console("node1", "rm -rf /root/.kube /home/cc/.kube /usr/local/bin/kubectl")
    # Every answer it gave was a valid v1.30 object (strict OpenAPI schema).
    assert summary["invalid"] == []
    assert {"Deployment", "HorizontalPodAutoscaler", "NodeList"} <= set(summary["validated"])


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


def test_the_controller_cannot_reach_node1s_api_port_without_the_tunnel(api_on_node1):
    lab, _ = api_on_node1
    assert not port_open(6443) and not port_open(DEFAULT_LOCAL_PORT)
    # ... while on node1 the API server answers: the real kubectl, through TLS and the token.
    nodes = lab.out("node1", "sudo kubectl get nodes --no-headers").splitlines()
    assert [line.split()[:2] for line in nodes] == [
        ["node1", "Ready"], ["node2", "Ready"], ["node3", "Ready"],
    ]  # fmt: skip


def test_kubeconfig_is_fetched_for_the_tunnel_and_checked_with_kubectl_on_node1(api_on_node1):
    lab, token = api_on_node1
    out = ok(lab.fab("kubeconfig"))
    assert "nodes Ready: node1, node2, node3" in out
    fetched = YAML(typ="safe").load((lab.target.state_dir / "kubeconfig").read_text())
    assert fetched["clusters"][0]["cluster"]["server"] == f"https://127.0.0.1:{DEFAULT_LOCAL_PORT}"
    assert fetched["users"][0]["user"]["token"] == token
    assert token not in out  # the fetched secret is written to the file, not shown


def test_the_app_stages_through_the_ssh_tunnel(api_on_node1):
    lab, token = api_on_node1
    ok(lab.fab("kubeconfig"))
    rollout = ok(lab.fab("rollout"))
    assert "applied Deployment/gourmetgram-kube-app" in rollout
    assert "gourmetgram-kube-app: 1 replica(s) ready" in rollout
    assert "no change" in ok(lab.fab("rollout", "--dry"))
    assert "6 replica(s) ready" in ok(lab.fab("scale", "--replicas", "6"))
    ok(lab.fab("autoscale"))
    live = json.loads(lab.out("node1", f"sudo kubectl get hpa -n {NS} -o json"))["items"]
    assert [h["spec"]["maxReplicas"] for h in live] == [6]
    status = ok(lab.fab("status"))
    shown = set(re.findall(r" on (\S+)$", status, re.M))  # each pod on its node
    assert "gourmetgram-kube-hpa" in status and shown
    assert shown <= {n.name for n in lab.target.cluster.nodes}, status
    ok(lab.fab("teardown"))
    gone = lab.ssh("node1", f"sudo kubectl get namespace {NS}", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
    # Each run stopped its tunnel (by PID) when it finished.
    assert not port_open(DEFAULT_LOCAL_PORT)
    for log in (lab.target.state_dir / "logs").glob("*.log"):
        assert token not in log.read_text()


def test_a_token_the_api_server_refuses_is_named(api_on_node1):
    lab, token = api_on_node1
    ok(lab.fab("kubeconfig"))
    local = lab.target.state_dir / "kubeconfig"
    local.write_text(local.read_text().replace(token, "0" * 32))
    result = lab.fab("status")
    assert result.returncode != 0
    assert "the API server refused: 401 Unauthorized" in result.stdout
    assert "Traceback" not in result.stdout
