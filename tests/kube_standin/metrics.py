"""metrics-server, standing in for the real one (which cannot run here): it scrapes every
pod's running containers every RESOLUTION modelled seconds and serves a pod's usage only
once it holds two points for it, as its storage computes CPU as a rate between two
cumulative readings (metrics-server pkg/storage/pod.go podStorage.Store/GetMetrics)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.kube_standin.cluster import Cluster

# kubespray's metrics_server_metric_resolution (15s): metrics-server's --metric-resolution
RESOLUTION = 15.0
# pkg/storage/pod.go freshContainerMinMetricsResolution: a container that started 10-15 s
# before a scrape gets its start time as the first point, so one scrape suffices for it.
FRESH_MIN = 10.0


@dataclass
class Sample:
    """A pod's usable reading: CPU (m) as modelled at the last scrape (the real one is the
    mean rate over [timestamp - window, timestamp]), when, and over what window."""

    cpu_m: float
    timestamp: float
    window: float


class MetricsServer:
    def __init__(self) -> None:
        self.next_scrape = 0.0  # scrapes at 0, 15, 30, ... modelled seconds
        self.last: dict[str, tuple[float, float]] = {}  # pod -> (scrape time, cpu m)
        self.usable: dict[str, Sample] = {}

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

    def sample(self, pod: dict[str, Any]) -> Sample | None:
        return self.usable.get(pod["name"])
