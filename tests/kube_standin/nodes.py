"""The stand-in's nodes, derived from cluster.yaml's model (gourmetops.cluster) as kubespray
release-2.26 and kubeadm v1.30 would register them, so roles and taints follow the roles
the project gives its nodes instead of a fixed three-node picture.

- A Kubernetes node is one in kube_control_plane or kube_node (kubespray's k8s_cluster
  group); a node only in etcd runs no kubelet and is not one.
- A control-plane node gets kubeadm's labels `node-role.kubernetes.io/control-plane=""` and
  `node.kubernetes.io/exclude-from-external-load-balancers=""` (v1.30
  cmd/kubeadm/app/phases/markcontrolplane); kubectl's ROLES column reads the first.
- Its taint `node-role.kubernetes.io/control-plane:NoSchedule` is set only when it is not
  also in kube_node: kubespray release-2.26
  roles/kubernetes/control-plane/templates/kubeadm-config.v1beta3.yaml.j2 (and
  kubeadm-controlplane.v1beta3.yaml.j2 for joining ones) write `taints: []` otherwise, and
  roles/kubernetes/control-plane/tasks/kubeadm-setup.yml "Remove taint for master with
  node role" removes it from nodes in kube_node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gourmetops.cluster import Cluster as Model
from gourmetops.cluster import load_cluster

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
EXCLUDE_LB = "node.kubernetes.io/exclude-from-external-load-balancers"
CPU_M = 2000.0  # each node's allocatable CPU (m) for pods: our constant (2 vCPU, no reserve)
CREATED = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class Node:
    name: str
    address: str
    roles: tuple[str, ...]
    index: int  # position in cluster.yaml, for the uid and podCIDR

    @property
    def control_plane(self) -> bool:
        return "kube_control_plane" in self.roles

    @property
    def taints(self) -> list[dict[str, str]]:
        if self.control_plane and "kube_node" not in self.roles:
            return [{"key": CONTROL_PLANE, "effect": "NoSchedule"}]
        return []

    @property
    def labels(self) -> dict[str, str]:
        """The kubelet's own labels (pkg/kubelet/kubelet_node_status.go initialNode) and
        kubeadm's control-plane ones."""
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": self.name,
            "kubernetes.io/os": "linux",
        }
        if self.control_plane:
            labels.update({CONTROL_PLANE: "", EXCLUDE_LB: ""})
        return labels


def from_model(model: Model | None = None) -> list[Node]:
    """The Kubernetes nodes of `model` (default: cluster.yaml or $GOURMETOPS_CLUSTER, read
    by the project's loader), at the lab's addresses when it has a lab, where the stand-in
    serves."""
    model = model or load_cluster()
    if model.lab is not None:
        model = model.with_private_network(model.lab.private_network)
    kube = [n for n in model.nodes if {"kube_control_plane", "kube_node"} & set(n.roles)]
    return [Node(n.name, str(n.address), n.roles, i) for i, n in enumerate(kube)]


def tolerated(taint: dict[str, str], tolerations: list[dict[str, Any]]) -> bool:
    """core/v1 Toleration.ToleratesTaint (staging/src/k8s.io/api/core/v1/toleration.go):
    the effect and the key match or are empty; then Exists tolerates, Equal (or no
    operator) needs the same value."""
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("key") and t["key"] != taint["key"]:
            continue
        operator = t.get("operator") or "Equal"
        if operator == "Exists" or (
            operator == "Equal" and t.get("value", "") == taint.get("value", "")
        ):
            return True
    return False


def untolerated(node: Node, tolerations: list[dict[str, Any]]) -> dict[str, str] | None:
    """The scheduler's TaintToleration filter: the first NoSchedule or NoExecute taint the
    pod does not tolerate (PreferNoSchedule only scores) (pkg/scheduler/framework/plugins/
    tainttoleration, v1helper.FindMatchingUntoleratedTaint)."""
    for taint in node.taints:
        if taint["effect"] in ("NoSchedule", "NoExecute") and not tolerated(taint, tolerations):
            return taint
    return None


def node_object(node: Node) -> dict[str, Any]:
    """core/v1 Node as the kubelet and kubeadm leave it."""
    spec: dict[str, Any] = {"podCIDR": f"10.254.{64 + node.index}.0/24"}
    if node.taints:
        spec["taints"] = node.taints
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "labels": node.labels,
            "uid": f"00000000-0000-4000-8000-{node.index:012d}",
            "creationTimestamp": CREATED,
        },
        "spec": spec,
        "status": {
            "capacity": {"cpu": "2", "memory": "4025836Ki", "pods": "110"},
            "allocatable": {"cpu": "2", "memory": "3661292Ki", "pods": "110"},
            "addresses": [
                {"type": "InternalIP", "address": node.address},
                {"type": "Hostname", "address": node.name},
            ],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": CREATED,
                    "lastTransitionTime": CREATED,
                }
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": f"boot-{node.name}",
                "containerRuntimeVersion": "containerd://1.7.21",
                "kernelVersion": "6.1.0-25-amd64",
                "kubeProxyVersion": "v1.30.4",
                "kubeletVersion": "v1.30.4",
                "machineID": f"machine-{node.name}",
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04 LTS",
                "systemUUID": f"uuid-{node.name}",
            },
        },
    }
