"""The API STAND-IN's nodes follow cluster.yaml's roles as kubespray release-2.26 registers
them (tests/kube_standin/nodes.py): kubeadm's control-plane label on kube_control_plane
nodes, its NoSchedule taint only on those not also in kube_node, no node for etcd alone;
and its scheduler keeps a pod without a matching toleration off a tainted node. Shown with
the real kubectl.1.30 too. Modelled time only (`cluster.advance`); still a stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from gourmetops import PROJECT_ROOT
from gourmetops.app.manifests import AppParams, render
from gourmetops.cluster import Cluster as Model
from gourmetops.cluster import load_cluster, parse_cluster
from tests.kube_standin.cluster import Cluster
from tests.kube_standin.kubectl import KUBECTL_1_30, runner
from tests.kube_standin.nodes import CONTROL_PLANE, from_model, node_object, tolerated

NS, DEP = "kube-gourmetgram", "gourmetgram-kube-app"
KUBECTL = KUBECTL_1_30
TAINT = {"key": CONTROL_PLANE, "effect": "NoSchedule"}
TOLERATE = [{"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"}]


def model_with(roles: dict[str, list[str]]) -> Model:
    """cluster.yaml with these nodes' roles (a node not named is dropped; a new one is
    added at the next address)."""
    raw = YAML(typ="safe", pure=True).load((PROJECT_ROOT / "cluster.yaml").read_text())
    nodes = {n["name"]: n for n in raw["nodes"]}
    raw["nodes"] = [
        {**nodes.get(name, {"name": name, "address": f"192.168.1.{10 + i}"}), "roles": r}
        for i, (name, r) in enumerate(roles.items(), start=1)
    ]
    return parse_cluster(raw, "test cluster.yaml")


# node1 runs the control plane only: kubespray leaves kubeadm's taint on it. node4 is an
# etcd member only, so kubespray makes no Kubernetes node of it.
APART = {
    "node1": ["kube_control_plane", "etcd"],
    "node2": ["kube_node", "etcd"],
    "node3": ["kube_node"],
    "node4": ["etcd"],
}


def roles_and_taints(cluster: Cluster) -> dict[str, tuple[bool, list[dict[str, str]]]]:
    objects = [node_object(n) for n in cluster.nodes]
    return {
        o["metadata"]["name"]: (
            CONTROL_PLANE in o["metadata"]["labels"],
            o["spec"].get("taints", []),
        )
        for o in objects
    }


def test_cluster_yamls_roles_give_two_untainted_control_plane_nodes():
    """The stand-in's nodes come from cluster.yaml through the project's loader."""
    cluster = Cluster()
    assert [n.name for n in cluster.nodes] == [n.name for n in load_cluster().nodes]
    assert roles_and_taints(cluster) == {
        "node1": (True, []),
        "node2": (True, []),
        "node3": (False, []),
    }
    node1 = node_object(cluster.nodes[0])["metadata"]["labels"]
    assert node1[CONTROL_PLANE] == ""
    assert node1["node.kubernetes.io/exclude-from-external-load-balancers"] == ""


def test_a_control_plane_node_outside_kube_node_is_tainted_and_etcd_alone_is_no_node():
    cluster = Cluster(model=model_with(APART))
    assert roles_and_taints(cluster) == {
        "node1": (True, [TAINT]),
        "node2": (False, []),
        "node3": (False, []),
    }
    assert [n.address for n in from_model(model_with(APART))] == [
        "10.254.1.11",
        "10.254.1.12",
        "10.254.1.13",
    ]  # the lab's addresses, where the stand-in serves


def test_tolerations_match_as_core_v1_does():
    assert tolerated(TAINT, TOLERATE)
    assert tolerated(TAINT, [{"operator": "Exists"}])  # an empty key with Exists: everything
    assert tolerated(TAINT, [{"key": CONTROL_PLANE, "effect": "NoSchedule"}])  # Equal, ""
    assert not tolerated(TAINT, [{"key": CONTROL_PLANE, "value": "true"}])
    assert not tolerated(
        TAINT, [{"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoExecute"}]
    )
    assert not tolerated(TAINT, [{"key": "other", "operator": "Exists"}])
    assert not tolerated(TAINT, [])


def deploy(cluster: Cluster, replicas: int, tolerations: list[dict[str, Any]] | None = None):
    """Apply the tutorial's Deployment with `replicas` pods; a minute later, its pods."""
    cluster.apply("namespaces", "", NS, {"metadata": {"name": NS}}, "test", False, False)
    dep = render(AppParams(external_ips=("10.254.0.2",), replicas=replicas))["deployment"]
    if tolerations:
        dep["spec"]["template"]["spec"]["tolerations"] = tolerations
    cluster.apply("deployments", NS, DEP, dep, "test", False, False)
    cluster.advance(60)
    return cluster.pods[f"{NS}/{DEP}"]


def test_cluster_yamls_roles_put_pods_on_every_node():
    pods = deploy(Cluster(), 6)
    assert sorted(p["node"] for p in pods) == ["node1", "node1", "node2", "node2", "node3", "node3"]


def test_the_scheduler_keeps_pods_off_a_tainted_node():
    """0.3 CPU requested a pod, 2 CPU a node: the two untainted nodes hold 12 pods; the 13th
    stays Pending with v1.30's FitError wording (".." included)."""
    cluster = Cluster(model=model_with(APART))
    pods = deploy(cluster, 13)
    placed = [p["node"] for p in pods]
    assert placed.count("node2") == placed.count("node3") == 6 and placed.count(None) == 1
    why = (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes "
        "are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims "
        "found for incoming pod.."
    )
    failed = [e for e in cluster.events if e["reason"] == "FailedScheduling"]
    assert [e["message"] for e in failed] == [why]
    pending = [p for p in cluster.pod_objects(NS) if p["status"]["phase"] == "Pending"]
    assert [p["status"]["conditions"][0]["message"] for p in pending] == [why]


def test_a_pod_tolerating_the_taint_may_go_to_the_tainted_node():
    cluster = Cluster(model=model_with(APART))
    placed = [p["node"] for p in deploy(cluster, 13, TOLERATE)]
    assert None not in placed and "node1" in placed


def kubectl(config: Path, tmp: Path, *args: str) -> str:
    proc = runner(KUBECTL, config, tmp)(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_kubectl_shows_the_roles_and_the_taint(standin_kubeconfig_for):
    config, cluster, tmp = standin_kubeconfig_for(model_with(APART))
    nodes = kubectl(config, tmp, "get", "nodes").splitlines()
    assert [line.split()[:3] for line in nodes[1:]] == [
        ["node1", "Ready", "control-plane"],
        ["node2", "Ready", "<none>"],
        ["node3", "Ready", "<none>"],
    ]
    taints = kubectl(config, tmp, "describe", "nodes")
    assert [
        line.split(None, 1)[1] for line in taints.splitlines() if line.startswith("Taints:")
    ] == [
        "node-role.kubernetes.io/control-plane:NoSchedule",
        "<none>",
        "<none>",
    ]
    chosen = kubectl(config, tmp, "get", "nodes", "-l", "!node-role.kubernetes.io/control-plane")
    assert [line.split()[0] for line in chosen.splitlines()[1:]] == ["node2", "node3"]

    kubectl(config, tmp, "create", "namespace", NS)
    kubectl(config, tmp, "apply", "-f", "manifests/deployment.yaml")
    kubectl(config, tmp, "scale", "deployment", DEP, "-n", NS, "--replicas", "4")
    cluster.advance(60)
    wide = kubectl(config, tmp, "get", "pods", "-n", NS, "-o", "wide").splitlines()
    node = wide[0].split().index("NODE")
    assert sorted(line.split()[node] for line in wide[1:]) == ["node2", "node2", "node3", "node3"]
    # kubectl describe node lists the pods on it (all namespaces, spec.nodeName)
    assert kubectl(config, tmp, "describe", "node", "node2").count(f"{NS} ") == 2
