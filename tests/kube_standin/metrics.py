"""metrics-server, standing in for the real one (which cannot run here): it scrapes every
pod's running containers and every node every RESOLUTION modelled seconds and serves a
usage only once it holds two points for it, as its storage computes CPU as a rate between
two cumulative readings (metrics-server pkg/storage/pod.go podStorage.Store/GetMetrics,
pkg/storage/node.go nodeStorage.Store/GetMetrics).

A node's usage is MODELLED, not measured: the modelled CPU and memory of the pods running
on it plus a constant for what runs outside our pods (kubelet, containerd, kube-proxy,
Calico; on a control-plane node also etcd, the API server, controller manager, scheduler)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.kube_standin import selector

if TYPE_CHECKING:
    from tests.kube_standin.cluster import Cluster
    from tests.kube_standin.nodes import Node

# kubespray's metrics_server_metric_resolution (15s): metrics-server's --metric-resolution
RESOLUTION = 15.0
# pkg/storage/pod.go freshContainerMinMetricsResolution: a container that started 10-15 s
# before a scrape gets its start time as the first point, so one scrape suffices for it.
FRESH_MIN = 10.0
POD_MEMORY_KI = 216064  # a pod's working set (our constant), its container's in PodMetrics
SIDECAR_MEMORY_KI = 8192
# CPU (m) and memory (Ki) a node uses outside our pods: constants of ours (see above).
SYSTEM_CPU_M = {"control-plane": 160.0, "worker": 45.0}
SYSTEM_MEMORY_KI = {"control-plane": 1468006, "worker": 614400}


@dataclass
class Sample:
    """A pod's usable reading: CPU (m) as modelled at the last scrape (the real one is the
    mean rate over [timestamp - window, timestamp]), when, and over what window."""

    cpu_m: float
    timestamp: float
    window: float


@dataclass
class NodeSample:
    """A node's usable reading at the last scrape: CPU (m), memory (Ki), when, over what
    window (the time since the scrape before, as node.go's two points give it)."""

    cpu_m: float
    memory_ki: int
    timestamp: float
    window: float


class MetricsServer:
    def __init__(self) -> None:
        self.next_scrape = 0.0  # scrapes at 0, 15, 30, ... modelled seconds
        self.last: dict[str, tuple[float, float]] = {}  # pod -> (scrape time, cpu m)
        self.usable: dict[str, Sample] = {}
        self.node_last: dict[str, float] = {}  # node -> last scrape time
        self.node_usable: dict[str, NodeSample] = {}

    def run(self, cluster: Cluster) -> None:
        while cluster.now() >= self.next_scrape:
            self._scrape(cluster, self.next_scrape)
            self.next_scrape += RESOLUTION

    def _scrape(self, cluster: Cluster, now: float) -> None:
        """pod.go Store: a point per running container; the previous point is the last
        scrape's, or the container's start when it is fresh (FRESH_MIN); else none yet."""
        last: dict[str, tuple[float, float]] = {}
        usable: dict[str, Sample] = {}
        for key, pods in cluster.pods.items():
            for pod in pods:
                if not cluster.pod_running(pod):
                    continue
                cpu = cluster.pod_cpu_m(key, pod)
                last[pod["name"]] = (now, cpu)
                started = cluster.container_start(pod)
                if FRESH_MIN <= now - started < RESOLUTION:
                    usable[pod["name"]] = Sample(cpu, now, now - started)
                elif pod["name"] in self.last:
                    before = self.last[pod["name"]][0]
                    usable[pod["name"]] = Sample(cpu, now, now - before)
        self.last, self.usable = last, usable
        self._scrape_nodes(cluster, now)

    def _scrape_nodes(self, cluster: Cluster, now: float) -> None:
        """node.go Store: the previous point is the last scrape's; with none yet, no usage."""
        usable: dict[str, NodeSample] = {}
        for node in cluster.nodes:
            if node.name in self.node_last:
                cpu, memory = node_usage(cluster, node)
                window = now - self.node_last[node.name]
                usable[node.name] = NodeSample(cpu, memory, now, window)
        self.node_last = {node.name: now for node in cluster.nodes}
        self.node_usable = usable

    def sample(self, pod: dict[str, Any]) -> Sample | None:
        return self.usable.get(pod["name"])

    def node_sample(self, name: str) -> NodeSample | None:
        return self.node_usable.get(name)


def node_usage(cluster: Cluster, node: Node) -> tuple[float, int]:
    """The node's modelled CPU (m) and memory (Ki) now: its system constant plus the
    modelled CPU and the memory constant of each pod running on it."""
    kind = "control-plane" if node.control_plane else "worker"
    cpu, memory = SYSTEM_CPU_M[kind], SYSTEM_MEMORY_KI[kind]
    for key, pods in cluster.pods.items():
        for pod in pods:
            if pod["node"] == node.name and cluster.pod_running(pod):
                cpu += cluster.pod_cpu_m(key, pod)
                memory += POD_MEMORY_KI + (SIDECAR_MEMORY_KI if cluster.sidecar else 0)
    return cpu, memory


def node_metrics(cluster: Cluster, labels: str) -> list[dict[str, Any]]:
    """metrics.k8s.io/v1beta1 NodeMetrics as metrics-server lists them (pkg/api/node.go):
    the nodes whose labels match the selector and which have a usage, by name, with the
    node's labels; CPU in nanocores, memory in Ki."""
    items = []
    for node in sorted(cluster.nodes, key=lambda n: n.name):
        sample = cluster.metrics_server.node_sample(node.name)
        if sample is None or not selector.matches(labels, node.labels):
            continue
        items.append(
            {
                "metadata": {
                    "name": node.name,
                    "creationTimestamp": cluster.stamp(),
                    "labels": node.labels,
                },
                "timestamp": cluster.stamp(sample.timestamp),
                "window": f"{sample.window:g}s",
                "usage": {"cpu": f"{int(sample.cpu_m * 1e6)}n", "memory": f"{sample.memory_ki}Ki"},
            }
        )
    return items
