"""The tutorial's kubectl commands, in its order, with the REAL kubectl and its DEFAULT
validation (no --validate=false) against the API STAND-IN (tests/kube_standin): create the
namespace, apply the Service and the Deployment (validated by the server: kubectl finds the
fieldValidation parameter in the stand-in's /openapi/v3 and sends fieldValidation=Strict;
client-side apply with its last-applied annotation), re-apply with 6 replicas,
get all, scale, autoscale, top pod (all, -l, NAME), rollout history, delete -f; and invalid
objects refused with the API server's 422 Invalid / 400 BadRequest messages; and the nodes'
roles and `top node` (NodeMetrics).

Run with fixed builds (kubectl.1.30, the cluster's minor; kubectl.1.32, which sends
`create namespace` and `autoscale` as protobuf) and with the machine's `kubectl` (the cloud
SDK's dispatcher, which picks a build from the server's reported version).
Time: the stand-in's modelled time moves only at `cluster.advance`; no verdict depends on
wall-clock speed. Still a stand-in: this shows kubectl's side of the conversation, not a
real cluster's behaviour."""

from __future__ import annotations

import subprocess

import pytest

from gourmetops import PROJECT_ROOT
from tests.kube_standin import serve
from tests.kube_standin.kubectl import DISPATCHER, KUBECTL_1_30, KUBECTL_1_32, runner

TOKEN = "standin_kubeconfig-token-5c1e"
NS = "kube-gourmetgram"
DEP = "gourmetgram-kube-app"
BUILDS = [KUBECTL_1_30, KUBECTL_1_32, DISPATCHER]


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "--validate=false" not in proc.stderr, proc.stderr
    return proc.stdout


def deployment_text(**edits: str) -> str:
    text = (PROJECT_ROOT / "manifests" / "deployment.yaml").read_text()
    for old, new in edits.values():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("kubectl", BUILDS, ids=["kubectl.1.30", "kubectl.1.32", "kubectl"])
def test_the_tutorials_commands_with_default_validation(standin_kubeconfig, kubectl):
    config, cluster, tmp = standin_kubeconfig
    run = runner(kubectl, config, tmp)

    # cluster.yaml: node1 and node2 control plane and worker (untainted), node3 a worker
    nodes = ok(run("get", "nodes")).splitlines()
    assert [line.split()[:3] for line in nodes[1:]] == [
        ["node1", "Ready", "control-plane"],
        ["node2", "Ready", "control-plane"],
        ["node3", "Ready", "<none>"],
    ]
    assert ok(run("create", "namespace", NS)).strip() == f"namespace/{NS} created"
    assert ("namespaces", "", NS) in cluster.objects
    assert "service/gourmetgram-kube-svc created" in ok(
        run("apply", "-f", "manifests/service.yaml")
    )
    assert f"deployment.apps/{DEP} created" in ok(run("apply", "-f", "manifests/deployment.yaml"))
    # kubectl found fieldValidation in /openapi/v3 and left validation to the server.
    assert ("GET", "/openapi/v3/apis/apps/v1") in cluster.requests
    assert ("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", "Strict") in cluster.directives
    stored = cluster.objects[("deployments", NS, DEP)]
    last = "kubectl.kubernetes.io/last-applied-configuration"
    assert '"replicas":1' in stored["metadata"]["annotations"][last]

    six = tmp / "deployment6.yaml"
    six.write_text(deployment_text(r=("  replicas: 1\n", "  replicas: 6\n")))
    assert f"deployment.apps/{DEP} configured" in ok(run("apply", "-f", str(six)))
    stored = cluster.objects[("deployments", NS, DEP)]
    assert stored["spec"]["replicas"] == 6
    assert '"replicas":6' in stored["metadata"]["annotations"][last]
    cluster.advance(60)

    everything = ok(run("get", "all", "-n", NS, "-o", "wide"))
    assert "service/gourmetgram-kube-svc   ClusterIP   10.254.233.34" in everything
    assert f"deployment.apps/{DEP}   6/6" in everything
    pods = [line for line in everything.splitlines() if line.startswith("pod/")]
    assert len(pods) == 6 and all(" Running " in p for p in pods)

    assert f"deployment.apps/{DEP} scaled" in ok(
        run("scale", "deployment", DEP, "-n", NS, "--replicas", "3")
    )
    assert cluster.objects[("deployments", NS, DEP)]["spec"]["replicas"] == 3
    cluster.advance(60)
    assert len(ok(run("get", "pods", "-n", NS, "-o", "name")).split()) == 3

    top = ok(run("top", "pod", "-n", NS)).splitlines()
    assert top[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"] and len(top) == 4
    chosen = ok(run("top", "pod", "-n", NS, "-l", f"app={DEP}")).splitlines()
    assert len(chosen) == 4
    none = run("top", "pod", "-n", NS, "-l", "app=nothing")
    assert none.returncode == 0 and "No resources found" in none.stderr
    name = top[1].split()[0]
    one = ok(run("top", "pod", name, "-n", NS)).splitlines()
    assert len(one) == 2 and one[1].split()[0] == name and one[1].split()[1].endswith("m")

    top_nodes = ok(run("top", "node")).splitlines()  # 1.32 heads "CPU(%)", 1.30 "CPU%"
    assert top_nodes[0].split()[:2] == ["NAME", "CPU(cores)"]
    assert [line.split()[0] for line in top_nodes[1:]] == ["node1", "node2", "node3"]
    assert all(line.split()[1].endswith("m") for line in top_nodes[1:])
    node1 = ok(run("top", "node", "node1")).splitlines()
    assert len(node1) == 2 and node1[1].split() == top_nodes[1].split()
    control = ok(run("top", "node", "-l", "node-role.kubernetes.io/control-plane"))
    assert [line.split()[0] for line in control.splitlines()[1:]] == ["node1", "node2"]

    assert f"horizontalpodautoscaler.autoscaling/{DEP} autoscaled" in ok(
        run(
            "autoscale",
            "deployment",
            DEP,
            "-n",
            NS,
            "--min",
            "2",
            "--max",
            "6",
            "--cpu-percent",
            "50",
        )
    )
    cluster.advance(60)
    hpa = ok(run("get", "hpa", "-n", NS)).splitlines()
    assert hpa[1].split()[:2] == [DEP, f"Deployment/{DEP}"]
    assert "/50%" in hpa[1] and " 2 " in hpa[1] and " 6 " in hpa[1]

    # Replicas-only changes (6, scale 3, the HPA's 2) leave the first revision; a new pod
    # template (image v2) is revision 2, the old ReplicaSet kept for it at 0 pods.
    history = ok(run("rollout", "history", "deployment", DEP, "-n", NS)).splitlines()
    assert history[0].strip() == f"deployment.apps/{DEP}"
    assert [line.split() for line in history[1:] if line.strip()] == [
        ["REVISION", "CHANGE-CAUSE"],
        ["1", "<none>"],
    ]
    v2 = tmp / "deployment-v2.yaml"
    v2.write_text(deployment_text(i=(":latest\n", ":v2\n"), r=("  replicas: 1\n", "")))
    assert f"deployment.apps/{DEP} configured" in ok(run("apply", "-f", str(v2)))
    cluster.advance(60)
    history = ok(run("rollout", "history", "deployment", DEP, "-n", NS)).splitlines()
    assert [line.split()[0] for line in history[2:] if line.strip()] == ["1", "2"]
    revision = "deployment.kubernetes.io/revision"
    stored = cluster.objects[("deployments", NS, DEP)]
    assert stored["metadata"]["annotations"][revision] == "2"
    two = ok(run("rollout", "history", "deployment", DEP, "-n", NS, "--revision", "2"))
    assert "node1:5000/gourmetgram-app:v2" in two

    deleted = ok(run("delete", "-f", "manifests/deployment.yaml", "-f", "manifests/service.yaml"))
    assert f'deployment.apps "{DEP}" deleted' in deleted
    assert 'service "gourmetgram-kube-svc" deleted' in deleted
    assert ("deployments", NS, DEP) not in cluster.objects


INVALID = {
    "negative replicas": (
        {"r": ("  replicas: 1\n", "  replicas: -1\n")},
        f'The Deployment "{DEP}" is invalid: spec.replicas: Invalid value: -1: must be greater '
        "than or equal to 0",
    ),
    "selector not matching the template": (
        {
            "l": (
                "      labels:\n        app: gourmetgram-kube-app",
                "      labels:\n        app: x",
            )
        },
        f'The Deployment "{DEP}" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ),
    "cpu: lots": (
        {"c": ('cpu: "0.3"', "cpu: lots")},
        'Deployment in version "v1" cannot be handled as a Deployment: quantities must match '
        "the regular expression",
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_objects_are_refused_as_the_api_server_does(standin_kubeconfig, case):
    kubectl = BUILDS[0]
    config, cluster, tmp = standin_kubeconfig
    run = runner(kubectl, config, tmp)
    ok(run("create", "namespace", NS))
    edits, message = INVALID[case]
    bad = tmp / "bad.yaml"
    bad.write_text(deployment_text(**edits))
    refused = run("apply", "-f", str(bad))
    assert refused.returncode == 1
    assert message in refused.stderr, refused.stderr
    assert "EOF" not in refused.stderr
    assert ("deployments", NS, DEP) not in cluster.objects


def test_an_hpa_with_min_above_max_is_invalid(standin_kubeconfig):
    kubectl = BUILDS[0]
    config, cluster, tmp = standin_kubeconfig
    run = runner(kubectl, config, tmp)
    ok(run("create", "namespace", NS))
    bad = tmp / "hpa.yaml"
    text = (PROJECT_ROOT / "manifests" / "hpa.yaml").read_text()
    bad.write_text(text.replace("minReplicas: 2", "minReplicas: 7"))
    refused = run("apply", "-f", str(bad))
    assert refused.returncode == 1
    assert (
        'The HorizontalPodAutoscaler "gourmetgram-kube-hpa" is invalid: spec.maxReplicas: '
        "Invalid value: 6: must be greater than or equal to `minReplicas`"
    ) in refused.stderr, refused.stderr
    negative = run("scale", "deployment", DEP, "-n", NS, "--replicas", "-1")
    assert negative.returncode != 0  # kubectl refuses a negative count itself


def test_a_request_the_standin_cannot_handle_gets_a_status_not_eof():
    """A body with no metadata (kubectl never sends one) makes the handler fail: the answer
    is a 500 InternalError Status, as the API server's panic recovery gives, not a dropped
    connection."""
    import http.client
    import json

    server, cluster = serve()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
        conn.request("POST", "/api/v1/namespaces", body=json.dumps({"kind": "Namespace"}))
        answer = conn.getresponse()
        body = json.loads(answer.read())
    finally:
        server.shutdown()
    assert answer.status == 500
    assert body["kind"] == "Status" and body["reason"] == "InternalError"
