"""What kubectl reads before it acts: /version, legacy discovery (/api, /apis and the
resource lists, https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api;
kubectl falls back to it when the aggregated form is not offered), the nodes kubespray's
cluster has, and ReplicaSets derived from the Deployments' pods. /openapi/v2 is served by
openapi.py (protobuf, the tutorial's kinds), as is /openapi/v3 for the group-versions the
stand-in writes (JSON)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tests.kube_standin.cluster import REVISION

if TYPE_CHECKING:
    from tests.kube_standin.cluster import Cluster

VERSION = {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.4",
    "gitCommit": "a51b3b711150f57ffc1f526a640ec058514ed596",
    "gitTreeState": "clean",
    "buildDate": "2024-08-14T19:02:46Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}
_RW = ["create", "delete", "get", "list", "patch", "update", "watch"]
RESOURCES = {
    "v1": [
        ("namespaces", "Namespace", False, ["ns"], []),
        ("nodes", "Node", False, ["no"], []),
        ("pods", "Pod", True, ["po"], ["all"]),
        ("services", "Service", True, ["svc"], ["all"]),
        ("secrets", "Secret", True, [], []),
        ("events", "Event", True, ["ev"], []),
    ],
    "apps/v1": [
        ("deployments", "Deployment", True, ["deploy"], ["all"]),
        ("replicasets", "ReplicaSet", True, ["rs"], ["all"]),
    ],
    "autoscaling/v2": [
        ("horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ["hpa"], ["all"])
    ],
    "metrics.k8s.io/v1beta1": [
        ("pods", "PodMetrics", True, [], []),
        ("nodes", "NodeMetrics", False, [], []),
    ],
}

# The scale subresource as the API server lists it (kubectl scale and autoscale look it up
# here: client-go scale's discovery-based ScaleKindResolver; kubectl autoscale's
# "could not find scale subresource ... in discovery information").
SCALE = [
    {
        "name": "deployments/scale",
        "singularName": "",
        "namespaced": True,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": ["get", "patch", "update"],
    }
]


def _resource_list(group_version: str) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {
                "name": name,
                "singularName": kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["get", "list"] if "metrics" in group_version else _RW,
                **({"shortNames": short} if short else {}),
                **({"categories": cats} if cats else {}),
            }
            for name, kind, namespaced, short, cats in RESOURCES[group_version]
        ]
        + (SCALE if group_version == "apps/v1" else []),
    }


def answer(cluster: Cluster, path: str) -> tuple[int, dict[str, Any]] | None:
    path = path.rstrip("/")
    groups = [gv for gv in RESOURCES if "/" in gv]
    if cluster.metrics == "absent":  # no v1beta1.metrics.k8s.io APIService
        groups.remove("metrics.k8s.io/v1beta1")
    if path == "/version":
        return 200, VERSION
    if path == "/api":
        return 200, {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "10.254.1.11:6443"}
            ],
        }
    if path == "/apis":
        return 200, {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": gv.split("/")[0],
                    "versions": [{"groupVersion": gv, "version": gv.split("/")[1]}],
                    "preferredVersion": {"groupVersion": gv, "version": gv.split("/")[1]},
                }
                for gv in groups
            ],
        }
    if path == "/api/v1":
        return 200, _resource_list("v1")
    for gv in groups:
        if path == f"/apis/{gv}":
            return 200, _resource_list(gv)
    return None


def nodes() -> list[dict[str, Any]]:
    """core/v1 Nodes as kubespray's three-node cluster reports them."""
    out = []
    for i, name in enumerate(("node1", "node2", "node3")):
        control = name == "node1"
        labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
        if control:
            labels["node-role.kubernetes.io/control-plane"] = ""
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": labels,
                    "uid": f"00000000-0000-4000-8000-00000000000{i}",
                    "creationTimestamp": "2026-01-01T00:00:00Z",
                },
                "spec": {
                    "podCIDR": f"10.254.{64 + i}.0/24",
                    **(
                        {
                            "taints": [
                                {
                                    "key": "node-role.kubernetes.io/control-plane",
                                    "effect": "NoSchedule",
                                }
                            ]
                        }
                        if control
                        else {}
                    ),
                },
                "status": {
                    "capacity": {"cpu": "2", "memory": "4025836Ki", "pods": "110"},
                    "allocatable": {"cpu": "2", "memory": "3661292Ki", "pods": "110"},
                    "addresses": [
                        {"type": "InternalIP", "address": f"10.254.1.{11 + i}"},
                        {"type": "Hostname", "address": name},
                    ],
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                            "lastTransitionTime": "2026-01-01T00:00:00Z",
                        }
                    ],
                    "nodeInfo": {
                        "architecture": "amd64",
                        "bootID": f"boot-{name}",
                        "containerRuntimeVersion": "containerd://1.7.21",
                        "kernelVersion": "6.1.0-25-amd64",
                        "kubeProxyVersion": "v1.30.4",
                        "kubeletVersion": "v1.30.4",
                        "machineID": f"machine-{name}",
                        "operatingSystem": "linux",
                        "osImage": "Ubuntu 24.04 LTS",
                        "systemUUID": f"uuid-{name}",
                    },
                },
            }
        )
    return out


def replicasets(cluster: Cluster, ns: str) -> list[dict[str, Any]]:
    """apps/v1 ReplicaSets, one per pod template a Deployment has pods of."""
    out = []
    for key, pods in cluster.pods.items():
        dns, dep_name = key.split("/")
        dep = cluster.objects.get(("deployments", dns, dep_name))
        if dns != ns or dep is None:
            continue
        kept = cluster.replica_sets.get(key, {})
        # Old ReplicaSets stay, scaled to 0, after their pods are gone (deployment
        # controller's cleanupDeployment keeps revisionHistoryLimit of them).
        for rs in dict.fromkeys([*kept, *(p["rs"] for p in pods)]):
            mine = [p for p in pods if p["rs"] == rs and not p["deleting"]]
            revision, template = kept[rs]  # every ReplicaSet with pods has its revision
            labels = {**template["metadata"]["labels"], "pod-template-hash": rs[-10:]}
            ready = sum(1 for p in mine if cluster.pod_ready(p))
            status = {"replicas": len(mine), "fullyLabeledReplicas": len(mine)}
            status.update(readyReplicas=ready, availableReplicas=ready, observedGeneration=1)
            out.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": rs,
                        "namespace": ns,
                        "labels": labels,
                        "annotations": {REVISION: str(revision)},
                        # the pods' ownerReferences' uid (cluster.py); kubectl tells the
                        # new ReplicaSet from old ones by uid (deployment_util FindOldReplicaSets)
                        "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, rs)),
                        "creationTimestamp": dep["metadata"]["creationTimestamp"],
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "Deployment",
                                "name": dep_name,
                                "uid": dep["metadata"]["uid"],
                                "controller": True,
                                "blockOwnerDeletion": True,
                            }
                        ],
                    },
                    "spec": {
                        "replicas": len(mine),
                        "selector": {"matchLabels": labels},
                        "template": {**template, "metadata": {"labels": labels}},
                    },
                    "status": {k: v for k, v in status.items() if v or k == "replicas"},
                }
            )
    return out
