"""The API STAND-IN's NodeMetrics (metrics.k8s.io/v1beta1 nodes, tests/kube_standin/metrics.py):
served as metrics-server serves them, a node's usage only after two scrapes, listed with a
label selector or by name, with its NotFound wordings; the usage itself is MODELLED (a
system constant plus the node's pods), not measured. `kubectl top node` against it runs in
tests/test_kubectl_tutorial.py. Modelled time only (`cluster.advance`)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from gourmetops.app.manifests import AppParams, render
from tests.kube_standin import serve
from tests.kube_standin.metrics import POD_MEMORY_KI, SYSTEM_CPU_M, SYSTEM_MEMORY_KI

NS, DEP = "kube-gourmetgram", "gourmetgram-kube-app"
NODES = "/apis/metrics.k8s.io/v1beta1/nodes"


@pytest.fixture
def api() -> Iterator[tuple[Any, Any]]:
    """(get(path) -> (status, body), cluster); answers schema-checked at the end."""
    server, cluster = serve()

    def get(path: str) -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
        conn.request("GET", path)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())

    yield get, cluster
    server.shutdown()
    assert cluster.invalid == []


def test_a_nodes_usage_is_served_after_two_scrapes(api):
    get, cluster = api
    code, body = get(NODES)  # one scrape (at 0): no rate yet
    assert (code, body["kind"], body["items"]) == (200, "NodeMetricsList", [])
    code, body = get(f"{NODES}/node1")
    assert (code, body["message"]) == (404, 'nodemetrics.metrics.k8s.io "node1" not found')
    code, body = get(f"{NODES}/node9")  # metrics-server's node lister has no such node
    assert (code, body["message"]) == (404, 'node "node9" not found')

    cluster.advance(15)
    code, body = get(NODES)
    assert [i["metadata"]["name"] for i in body["items"]] == ["node1", "node2", "node3"]
    assert {i["window"] for i in body["items"]} == {"15s"}
    code, one = get(f"{NODES}/node3")
    assert (code, one["kind"], one["metadata"]["name"]) == (200, "NodeMetrics", "node3")
    assert one["usage"] == {
        "cpu": f"{int(SYSTEM_CPU_M['worker'] * 1e6)}n",
        "memory": f"{SYSTEM_MEMORY_KI['worker']}Ki",
    }


def test_the_label_selector_chooses_nodes_by_their_labels(api):
    get, cluster = api
    cluster.advance(15)
    selector = "labelSelector=node-role.kubernetes.io/control-plane"
    _, body = get(f"{NODES}?{selector}")
    assert [i["metadata"]["name"] for i in body["items"]] == ["node1", "node2"]
    _, body = get(f"{NODES}?labelSelector=kubernetes.io/hostname%3Dnode3")
    assert [i["metadata"]["name"] for i in body["items"]] == ["node3"]


def test_a_nodes_usage_is_its_pods_plus_a_modelled_system_base(api):
    """Three pods, one a node (least requested first), under load: each node's CPU is the
    base plus its pod's modelled CPU, as the pod's own PodMetrics shows it."""
    get, cluster = api
    cluster.apply("namespaces", "", NS, {"metadata": {"name": NS}}, "test", False, False)
    dep = render(AppParams(external_ips=("10.254.0.2",), replicas=3))["deployment"]
    cluster.apply("deployments", NS, DEP, dep, "test", False, False)
    cluster.load_m = 300.0
    cluster.advance(60)
    _, pods = get(f"/apis/metrics.k8s.io/v1beta1/namespaces/{NS}/pods")
    pod_cpu = {
        p["metadata"]["name"]: int(p["containers"][0]["usage"]["cpu"][:-1]) for p in pods["items"]
    }
    on = {p["name"]: p["node"] for p in cluster.pods[f"{NS}/{DEP}"]}
    _, body = get(NODES)
    for item in body["items"]:
        name = item["metadata"]["name"]
        mine = [cpu for pod, cpu in pod_cpu.items() if on[pod] == name]
        assert len(mine) == 1
        base = SYSTEM_CPU_M["control-plane" if name != "node3" else "worker"]
        cpu = int(item["usage"]["cpu"][:-1])
        assert abs(cpu - (base * 1e6 + mine[0])) <= 1e6  # PodMetrics adds under 1m of its own
        memory = SYSTEM_MEMORY_KI["control-plane" if name != "node3" else "worker"]
        assert item["usage"]["memory"] == f"{memory + POD_MEMORY_KI}Ki"
