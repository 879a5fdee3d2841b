"""kubectl v1.32 (/usr/bin/kubectl) pointed at the API STAND-IN (tests/kube_standin) through a
kubeconfig like the one `fab kubeconfig` fetches (HTTPS with a CA, a bearer token), running
the tutorial's commands; and gourmetops' own client through the same kubeconfig.

What the stand-in does not serve, and how the test copes:
- /openapi/v2 and /openapi/v3 are served for the tutorial's kinds (kube_standin/openapi.py),
  so kubectl leaves validation to the server (fieldValidation=Strict); the rest of this test
  still passes --validate=false (fieldValidation=Ignore), tests/test_kubectl_tutorial.py
  runs with the default;
- `kubectl apply -f manifests/` applies the files in name order, so deployment.yaml comes
  before namespace.yaml: on a real cluster too it fails with "namespaces ... not found"
  unless the namespace exists, so the namespace is applied first, as the tutorial's
  `kubectl create namespace` does;
- `kubectl apply --server-side` after the HPA has scaled conflicts on .spec.replicas with
  kube-controller-manager (subresource scale): that is the real behaviour (server-side
  apply docs, "Conflicts"), so the test checks it and then applies with --force-conflicts.
Time: the stand-in's modelled time moves only when the test says (`cluster.advance`), so
what kubectl sees between two commands is the same on any machine.
Still a stand-in: nothing here shows a real cluster's behaviour.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from gourmetops.app.kube import Kube
from tests.kube_standin.fixtures import TOKEN
from tests.kube_standin.kubectl import DISPATCHER, runner

KUBECTL = DISPATCHER

NS = "kube-gourmetgram"


def kubectl(config: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return runner(KUBECTL, config, tmp)(*args)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")
def test_the_tutorials_kubectl_commands_against_the_standin(standin_kubeconfig):
    config, cluster, tmp = standin_kubeconfig
    run = lambda *args: kubectl(config, tmp, *args)  # noqa: E731
    nodes = ok(run("get", "nodes")).splitlines()
    assert nodes[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [line.split()[:3] for line in nodes[1:]] == [
        ["node1", "Ready", "control-plane"],
        ["node2", "Ready", "control-plane"],
        ["node3", "Ready", "<none>"],
    ]

    ok(run("apply", "-f", "manifests/namespace.yaml"))  # validated by the server
    applied = ok(run("apply", "--validate=false", "-f", "manifests/"))
    assert "deployment.apps/gourmetgram-kube-app created" in applied
    assert "horizontalpodautoscaler.autoscaling/gourmetgram-kube-hpa created" in applied
    assert "namespace/kube-gourmetgram unchanged" in applied
    # A minute: the pod passes its readiness probe, the HPA's first sync raises the
    # Deployment to its minimum of 2, and the second pod gets ready too.
    cluster.advance(60)
    rolled = ok(run("rollout", "status", "-n", NS, "deploy/gourmetgram-kube-app", "--timeout=20s"))
    assert 'deployment "gourmetgram-kube-app" successfully rolled out' in rolled

    everything = ok(run("get", "all", "-n", NS, "-o", "wide"))
    assert "service/gourmetgram-kube-svc   ClusterIP   10.254.233.34" in everything
    assert "deployment.apps/gourmetgram-kube-app" in everything
    assert "replicaset.apps/gourmetgram-kube-app-" in everything
    pods = [line for line in everything.splitlines() if line.startswith("pod/")]
    assert pods and all(" Running " in p and " node" in p for p in pods)

    hpa = ok(run("get", "hpa", "-n", NS)).splitlines()
    assert hpa[1].split()[:6] == [
        "gourmetgram-kube-hpa",
        "Deployment/gourmetgram-kube-app",
        "cpu:",
        "12%/50%",
        "2",
        "6",
    ]
    top = ok(run("top", "pod", "-n", NS)).splitlines()
    assert top[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert [line.split()[1:] for line in top[1:]] == [["37m", "211Mi"]] * 2

    conflict = run("apply", "--server-side", "--validate=false", "-f", "manifests/")
    assert conflict.returncode == 1
    assert (
        'conflict with "kube-controller-manager" with subresource "scale" using apps/v1: '
        ".spec.replicas"
    ) in conflict.stderr
    forced = ok(
        run("apply", "--server-side", "--force-conflicts", "--validate=false", "-f", "manifests/")
    )
    assert "deployment.apps/gourmetgram-kube-app serverside-applied" in forced

    deleted = ok(run("delete", "-f", "manifests/", "--timeout=20s"))
    assert 'namespace "kube-gourmetgram" deleted' in deleted
    assert "No resources found" in run("get", "ns").stderr
    assert cluster.objects == {}


def test_gourmetops_client_through_the_tls_and_token_kubeconfig(standin_kubeconfig):
    """Our client, in pytest's own process (no pyinfra_cli here: conftest checks), over TLS
    with the bearer token; a wrong token is refused with 401."""
    config, cluster, tmp = standin_kubeconfig
    (tmp / "bad").write_text(config.read_text().replace(TOKEN, "wrong-token"))
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-gourmetgram"}}
    Kube.from_kubeconfig(str(config)).apply(ns)
    assert Kube.from_kubeconfig(str(config)).live(ns)["status"]["phase"] == "Active"
    with pytest.raises(ApiException) as refused:
        Kube.from_kubeconfig(str(tmp / "bad")).live(ns)
    assert refused.value.status == 401
    assert ("GET", "/api/v1/namespaces/kube-gourmetgram") in cluster.requests
