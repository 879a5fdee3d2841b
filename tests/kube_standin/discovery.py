"""What kubectl reads before it acts: /version, legacy discovery (/api, /apis and the
resource lists, https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api;
kubectl falls back to it when the aggregated form is not offered), and ReplicaSets
derived from the Deployments' pods (the nodes: nodes.py). /openapi/v2 is served by
openapi.py (protobuf, the tutorial's kinds), as is /openapi/v3 for the group-versions the
stand-in writes (JSON)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tests.kube_standin.cluster import REVISION

# deployment_util.go DesiredReplicasAnnotation, MaxReplicasAnnotation
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"

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


def replicasets(cluster: Cluster, ns: str) -> list[dict[str, Any]]:
    """apps/v1 ReplicaSets, each Deployment's, with the size and annotations the deployment
    controller gave them (rollout.py) and their pods' counts."""
    out = []
    for key, kept in cluster.replica_sets.items():
        dns, dep_name = key.split("/")
        dep = cluster.objects.get(("deployments", dns, dep_name))
        if dns != ns or dep is None:
            continue
        pods = cluster.pods.get(key, [])
        # Old ReplicaSets stay, scaled to 0, after their pods are gone (deployment
        # controller's cleanupDeployment keeps revisionHistoryLimit of them).
        for rs, state in kept.items():
            mine = [p for p in pods if p["rs"] == rs and not p["deleting"]]
            template = state.template
            labels = {**template["metadata"]["labels"], "pod-template-hash": rs[-10:]}
            ready = sum(1 for p in mine if cluster.pod_ready(p))
            status = {"replicas": len(mine), "fullyLabeledReplicas": len(mine)}
            status.update(readyReplicas=ready, availableReplicas=ready, observedGeneration=1)
            annotations = {REVISION: str(state.revision)}
            if state.desired is not None:  # deployment_util.go SetReplicasAnnotations
                annotations[DESIRED] = str(state.desired)
                annotations[MAX] = str(state.max_replicas)
            out.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": rs,
                        "namespace": ns,
                        "labels": labels,
                        "annotations": annotations,
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
                        "replicas": state.replicas,
                        "selector": {"matchLabels": labels},
                        "template": {**template, "metadata": {"labels": labels}},
                    },
                    "status": {k: v for k, v in status.items() if v or k == "replicas"},
                }
            )
    return out
