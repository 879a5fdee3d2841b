"""The final stage against the cluster's API with the `kubernetes` client: server-side
apply with a field manager of our own, the pods' lines and events, metrics and the HPA's
line (the waits on all of it are in waits.py).

Typed APIs only (no discovery round trips), so the same code runs through the SSH tunnel to
a real API server and, in tests, against the API stand-in in tests/kube_standin/.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from gourmetops.app.manifests import to_yaml
from gourmetops.errors import GourmetopsError
from gourmetops.quantity import parse_quantity
from gourmetops.waiting import SYSTEM_CLOCK, Clock

FIELD_MANAGER = "gourmetops"
_VERBS = ("read", "patch", "delete")
_KINDS = {
    "Namespace": ("core", "namespace"),
    "Service": ("core", "namespaced_service"),
    "Secret": ("core", "namespaced_secret"),
    "Deployment": ("apps", "namespaced_deployment"),
    "HorizontalPodAutoscaler": ("autoscaling", "namespaced_horizontal_pod_autoscaler"),
}
APPLY = "application/apply-patch+yaml"

Echo = Callable[[str], None]


class KubeError(GourmetopsError, RuntimeError):
    """The cluster did not get where we asked in time, or refused; the message says how."""


@dataclass
class Kube:
    core: client.CoreV1Api
    apps: client.AppsV1Api
    autoscaling: client.AutoscalingV2Api
    custom: client.CustomObjectsApi
    # What the waits for the cluster read and sleep on: the wall clock, or in tests the API
    # stand-in's modelled time (tests/kube_standin/clock.py).
    clock: Clock = field(default=SYSTEM_CLOCK)

    @classmethod
    def from_kubeconfig(cls, path: str) -> Kube:
        return cls.from_api_client(config.new_client_from_config(config_file=path))

    @classmethod
    def from_api_client(cls, api: client.ApiClient, clock: Clock = SYSTEM_CLOCK) -> Kube:
        return cls(
            client.CoreV1Api(api),
            client.AppsV1Api(api),
            client.AutoscalingV2Api(api),
            client.CustomObjectsApi(api),
            clock,
        )

    # --- reading and applying single objects -------------------------------------------
    def _calls(self, obj: dict[str, Any]) -> tuple[Callable, Callable, Callable, tuple]:
        """read, patch and delete for the object's kind, and their name/namespace args."""
        kind, meta = obj["kind"], obj["metadata"]
        if kind not in _KINDS:
            raise KubeError(f"cannot handle kind {kind}")
        api, suffix = _KINDS[kind]
        calls = [getattr(getattr(self, api), f"{verb}_{suffix}") for verb in _VERBS]
        args = (meta["name"],) if kind == "Namespace" else (meta["name"], meta.get("namespace"))
        return calls[0], calls[1], calls[2], args

    def live(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The object as the cluster has it (as plain JSON-style data), None if absent."""
        read, _, _, args = self._calls(obj)
        try:
            found = read(*args)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return self.core.api_client.sanitize_for_serialization(found)

    def apply(
        self, obj: dict[str, Any], dry: bool = False, field_manager: str = FIELD_MANAGER
    ) -> None:
        _, patch, _, args = self._calls(obj)
        kwargs: dict[str, Any] = {
            "field_manager": field_manager,
            "force": True,  # we own these fields; kubectl edits are taken back
            "_content_type": APPLY,
        }
        if dry:
            kwargs["dry_run"] = "All"
        patch(*args, obj, **kwargs)

    def delete(self, obj: dict[str, Any]) -> bool:
        """Delete; False if it was not there."""
        _, _, delete, args = self._calls(obj)
        try:
            delete(*args)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True


def diff(obj: dict[str, Any], live: dict[str, Any] | None) -> str:
    """What applying `obj` changes: our fields against the live object's same fields."""
    ours = to_yaml(obj).splitlines()
    theirs = to_yaml(_project(live, obj)).splitlines() if live is not None else []
    name = f"{obj['kind']}/{obj['metadata']['name']}"
    lines = difflib.unified_diff(theirs, ours, f"live {name}", f"applied {name}", lineterm="")
    return "\n".join(lines) or f"{name}: no change"


def _project(live: Any, shape: Any, quantities: bool = False) -> Any:
    """The parts of `live` that `shape` sets (lists element by element). Resource
    quantities compare by value: the API server stores "0.5" CPU as "500m"."""
    if isinstance(shape, dict) and isinstance(live, dict):
        return {
            k: _project(live[k], v, quantities or k in ("limits", "requests"))
            for k, v in shape.items()
            if k in live
        }
    if isinstance(shape, list) and isinstance(live, list):
        return [_project(lv, sv) for lv, sv in zip(live, shape, strict=False)]
    if quantities and _quantity(live) is not None and _quantity(live) == _quantity(shape):
        return shape
    return live


def _quantity(value: Any) -> Decimal | None:
    try:
        return parse_quantity(value)
    except (ValueError, TypeError):
        return None


# --- pods, events, readiness ---------------------------------------------------------
def pod_lines(kube: Kube, namespace: str, selector: str) -> list[str]:
    """One line per pod: name, phase, ready containers, node (what -o wide shows)."""
    pods = kube.core.list_namespaced_pod(namespace, label_selector=selector).items
    lines = []
    for pod in sorted(pods, key=lambda p: p.metadata.name):
        statuses = pod.status.container_statuses or []
        ready = sum(1 for s in statuses if s.ready)
        waiting = [
            s.state.waiting.reason
            for s in statuses
            if s.state and s.state.waiting and s.state.waiting.reason
        ]
        phase = pod.status.phase + (f" ({', '.join(waiting)})" if waiting else "")
        phase = "Terminating" if pod.metadata.deletion_timestamp else phase
        node = pod.spec.node_name or "-"
        lines.append(
            f"{pod.metadata.name} {phase} ready {ready}/{len(pod.spec.containers)} on {node}"
        )
    return lines


def pod_events(kube: Kube, namespace: str, selector: str, last: int = 5) -> list[str]:
    lines = []
    for pod in kube.core.list_namespaced_pod(namespace, label_selector=selector).items:
        events = kube.core.list_namespaced_event(
            namespace, field_selector=f"involvedObject.name={pod.metadata.name}"
        ).items
        # v1.30 writers set either lastTimestamp (core/v1 recorders, the kubelet) or only
        # eventTime and series (events.k8s.io/v1 recorders, the scheduler).
        events.sort(
            key=lambda e: (
                (e.series and e.series.last_observed_time)
                or e.last_timestamp
                or e.event_time
                or e.metadata.creation_timestamp
            )
        )
        for e in events[-last:]:
            lines.append(f"{pod.metadata.name}: {e.type} {e.reason}: {e.message}")
    return lines


# --- metrics -----------------------------------------------------------------------------
def pod_metrics(kube: Kube, namespace: str) -> dict[str, dict[str, str]] | None:
    """Pod -> {"cpu": ..., "memory": ...} from the metrics API (`kubectl top pod`), or None
    when the metrics API is not serving (metrics-server missing or not ready yet)."""
    try:
        answer = kube.custom.list_namespaced_custom_object(
            "metrics.k8s.io", "v1beta1", namespace, "pods"
        )
    except ApiException as exc:
        if exc.status in (404, 503):
            return None
        raise
    usage: dict[str, dict[str, str]] = {}
    for item in answer.get("items", []):
        # Summed over containers, as `kubectl top pod` shows them (metrics_printer.go).
        cpu, mem = (
            sum(parse_quantity(c["usage"].get(r, "0")) for c in item.get("containers", []))
            for r in ("cpu", "memory")
        )
        usage[item["metadata"]["name"]] = {
            "cpu": f"{math.ceil(cpu * 1000)}m",
            "memory": f"{int(mem) // 2**20}Mi",
        }
    return usage


METRICS_NOT_READY = (
    "metrics API not serving: metrics-server is missing or not ready yet, so the HPA shows "
    "<unknown> and cannot scale (check `kubectl -n kube-system get pods -l "
    "app.kubernetes.io/name=metrics-server`; kubespray installs it with "
    "metrics_server_enabled: true)"
)


def hpa_line(kube: Kube, name: str, namespace: str) -> str | None:
    try:
        hpa = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    target = hpa.spec.metrics[0].resource.target.average_utilization if hpa.spec.metrics else 80
    current = None
    # v1.30 omits empty status fields: no currentMetrics without metrics, no currentReplicas
    # while 0 (a fresh HPA before its first sync).
    st = hpa.status or client.V2HorizontalPodAutoscalerStatus(desired_replicas=0)
    for metric in st.current_metrics or []:
        if metric.resource and metric.resource.name == "cpu":
            current = metric.resource.current.average_utilization
    shown = f"{current}%" if current is not None else "<unknown>"
    return (
        f"hpa/{name}: cpu {shown}/{target}%, replicas {st.current_replicas or 0} "
        f"(min {hpa.spec.min_replicas or 1}, max {hpa.spec.max_replicas}, "
        f"desired {st.desired_replicas or 0})"
    )
