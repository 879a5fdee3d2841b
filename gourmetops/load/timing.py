"""When the HPA can be expected to react, from the cluster's defaults: the experiment's waits
are derived from it, and the report sets what it observed against it.

Each figure is an upper bound read from documented defaults, not a measurement:
- metrics-server scrapes every `metric_resolution` seconds (kubespray release-2.26
  roles/kubernetes-apps/metrics_server/defaults/main.yml metrics_server_metric_resolution:
  15s) and reports a pod's CPU as the rate between two scrapes, so a load is seen whole at
  most two resolutions after it starts (pkg/storage/pod.go), and still one after it ends;
- the HPA controller syncs every `hpa_sync` seconds (kube-controller-manager
  --horizontal-pod-autoscaler-sync-period, 15s);
- a new pod serves and counts once Ready: its container starts (`container_start`, ours:
  the image is cached on the node) and the kubelet runs its readinessProbe, skipped until
  initialDelaySeconds, then successThreshold successes periodSeconds apart
  (pkg/kubelet/prober/worker.go);
- a scale-down waits until the highest recommendation of the last `downscale_window`
  seconds is the minimum (behavior.scaleDown.stabilizationWindowSeconds, else
  --horizontal-pod-autoscaler-downscale-stabilization, 300s).

    >>> t = Timing.from_objects(render(AppParams()))   # the tutorial's Deployment and HPA
    >>> t.scale_up_within, t.pause_after(30), t.scale_down_within
    (70.0, 40.0, 345.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gourmetops.load.app_record import DEFAULT_SCALE_DOWN_WINDOW

METRIC_RESOLUTION = 15.0
HPA_SYNC = 15.0
CONTAINER_START = 5.0


def probe_ready(probe: dict[str, Any] | None) -> float:
    """Seconds from a container's start to Ready at the latest, from its readinessProbe
    (the API's defaults: initialDelaySeconds 0, periodSeconds 10, successThreshold 1)."""
    if not probe:
        return 0.0
    delay = float(probe.get("initialDelaySeconds", 0))
    period = float(probe.get("periodSeconds", 10))
    return delay + period * int(probe.get("successThreshold", 1))


@dataclass(frozen=True)
class Timing:
    readiness: float  # container start to Ready, from the Deployment's probe
    downscale_window: float = DEFAULT_SCALE_DOWN_WINDOW
    metric_resolution: float = METRIC_RESOLUTION
    hpa_sync: float = HPA_SYNC
    container_start: float = CONTAINER_START

    @classmethod
    def from_objects(cls, objects: dict[str, dict[str, Any]]) -> Timing:
        """From the Deployment's readinessProbe and the HPA's scale-down behaviour."""
        container = objects["deployment"]["spec"]["template"]["spec"]["containers"][0]
        down = (objects["hpa"]["spec"].get("behavior") or {}).get("scaleDown") or {}
        return cls(
            readiness=probe_ready(container.get("readinessProbe")),
            downscale_window=float(
                down.get("stabilizationWindowSeconds", DEFAULT_SCALE_DOWN_WINDOW)
            ),
        )

    @property
    def whole_window(self) -> float:
        """The shortest load that metrics-server is sure to see whole in one reading."""
        return 2 * self.metric_resolution

    @property
    def scale_up_within(self) -> float:
        """From a load's start to more ready replicas: the load seen whole, the next HPA sync,
        the new pods' start and readiness."""
        return self.whole_window + self.hpa_sync + self.container_start + self.readiness

    def pause_after(self, duration: float) -> float:
        """The watch after a load run of `duration` s before the next: until the scale-up it
        caused is ready to serve, so the next run meets the replicas the HPA chose."""
        return max(0.0, self.scale_up_within - duration)

    @property
    def scale_down_from(self) -> float:
        """The earliest a scale-down can come after a load's end: the window, less the one
        resolution by which the last reading with the load in it may precede the end."""
        return self.downscale_window - self.metric_resolution

    @property
    def scale_down_within(self) -> float:
        """From a load's end back to the minimum: the last reading with the load in it, the
        sync that reads it, the stabilisation window, the sync after it."""
        return self.metric_resolution + 2 * self.hpa_sync + self.downscale_window

    def scale_down_timeout(self, sample_every: float) -> float:
        """How long the scale-down watch waits: the bound and two samples to see it."""
        return self.scale_down_within + 2 * sample_every

    def describe(self) -> str:
        """The defaults the waits come from, for the dry run and the report."""
        return (
            f"metrics every {self.metric_resolution:g}s, HPA sync every {self.hpa_sync:g}s, "
            f"pods Ready {self.container_start + self.readiness:g}s after creation, "
            f"scale-down window {self.downscale_window:g}s"
        )
