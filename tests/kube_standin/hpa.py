"""The HPA controller, standing in for kube-controller-manager's (which cannot run here):
kubernetes v1.30 pkg/controller/podautoscaler/horizontal.go reconcileAutoscaler for a
Resource cpu Utilization metric, with the flags' defaults: a 15 s sync period, the replica
calculator of replicas.py (0.1 tolerance, start-up and missing-metric handling) and the
behaviour of behavior.py (scale-up policies, 300 s scale-down stabilisation). Times are the
cluster's modelled seconds. Like v1.30's controller it writes no status.observedGeneration
(setStatus in horizontal.go)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tests.kube_standin import behavior, replicas

if TYPE_CHECKING:
    from tests.kube_standin.cluster import Cluster

SYNC_PERIOD = 15.0  # --horizontal-pod-autoscaler-sync-period
MANAGER = "kube-controller-manager"
UNAVAILABLE = (  # the metrics client's error while metrics.k8s.io does not answer
    "unable to fetch metrics from resource metrics API: the server is currently unable to "
    "handle the request (get pods.metrics.k8s.io)"
)


class Autoscaler:
    def __init__(self, first_sync: float) -> None:
        self.next_sync = first_sync
        self.history = behavior.History()

    def sync(self, cluster: Cluster, hpa: dict[str, Any]) -> None:
        while cluster.now() >= self.next_sync:
            self._sync(cluster, hpa, self.next_sync)
            self.next_sync += SYNC_PERIOD

    def _sync(self, cluster: Cluster, hpa: dict[str, Any], now: float) -> None:
        """reconcileAutoscaler: conditions persist between syncs (setCondition)."""
        spec, ns = hpa["spec"], hpa["metadata"]["namespace"]
        target = spec["scaleTargetRef"]["name"]
        old = hpa.get("status") or {}
        status = {k: old[k] for k in ("lastScaleTime", "desiredReplicas") if k in old}
        conds = Conditions(old.get("conditions", []), cluster.stamp())
        dep = cluster.objects.get(("deployments", ns, target))
        if dep is None:
            hpa["status"] = _no_scale(target, status, conds)
            return
        conds.set(
            "AbleToScale",
            (
                "True",
                "SucceededGetScale",
                "the HPA controller was able to get the target's current scale",
            ),
        )
        current = dep["spec"]["replicas"]
        if not self.history.recommendations:  # recordInitialRecommendation
            self.history.recommendations.append((now, current))
        lo, hi = spec.get("minReplicas", 1), spec["maxReplicas"]
        metric = None
        if current == 0 and lo != 0:
            desired = 0
            conds.set(
                "ScalingActive",
                (
                    "False",
                    "ScalingDisabled",
                    "scaling is disabled since the replica count of the target is zero",
                ),
            )
        elif current > hi or current < lo:  # corrected without metrics
            desired = hi if current > hi else lo
        else:
            computed = self._from_metrics(cluster, dep, spec, current, now, conds)
            if computed is None:  # the error path: desiredReplicas as it was
                status["currentReplicas"] = current
                hpa["status"] = _status(status, conds)
                return
            desired, metric = computed
        if desired != current and desired:
            cluster.scale(ns, target, desired, MANAGER)
            self.history.record_scale(now, current, desired)
            status["lastScaleTime"] = cluster.stamp()
            conds.set(
                "AbleToScale",
                (
                    "True",
                    "SucceededRescale",
                    f"the HPA controller was able to update the target scale to {desired}",
                ),
            )
        status.update(currentReplicas=current, desiredReplicas=desired)
        if metric:
            status["currentMetrics"] = [metric]
        hpa["status"] = _status(status, conds)

    def _from_metrics(
        self,
        cluster: Cluster,
        dep: dict[str, Any],
        spec: dict[str, Any],
        current: int,
        now: float,
        conds: Conditions,
    ) -> tuple[int, dict[str, Any]] | None:
        """computeReplicasForMetrics then normalizeDesiredReplicasWithBehaviors; None on a
        metrics error (ScalingActive False FailedGetResourceMetric)."""
        target_util = spec["metrics"][0]["resource"]["target"]["averageUtilization"]
        pods = cluster.pod_views(dep)
        if cluster.metrics != "ready":
            result: replicas.Result | str = f"unable to get metrics for resource cpu: {UNAVAILABLE}"
        elif not any(p.metric for p in pods):
            result = (
                "unable to get metrics for resource cpu: no metrics returned from resource "
                "metrics API"
            )
        else:
            result = replicas.replicas(pods, current, target_util, now)
        if isinstance(result, str):
            conds.set(
                "ScalingActive",
                (
                    "False",
                    "FailedGetResourceMetric",
                    "the HPA was unable to compute the replica count: failed to get cpu "
                    f"utilization: {result}",
                ),
            )
            return None
        conds.set(
            "ScalingActive",
            (
                "True",
                "ValidMetricFound",
                "the HPA was able to successfully calculate a replica count from cpu "
                "resource utilization (percentage of request)",
            ),
        )
        stable, able = behavior.stabilise(
            self.history, spec["behavior"], current, result.replicas, now
        )
        conds.set("AbleToScale", able)
        desired, reason, message = behavior.rate_limit(self.history, spec, current, stable, now)
        conds.set("ScalingLimited", ("False" if desired == stable else "True", reason, message))
        metric = {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "current": {
                    "averageUtilization": result.utilization,
                    "averageValue": f"{math.floor(result.average_m)}m",
                },
            },
        }
        return desired, metric


class Conditions:
    """The HPA's conditions; setCondition keeps lastTransitionTime while the status stays."""

    def __init__(self, old: list[dict[str, str]], stamp: str) -> None:
        self.by_type = {c["type"]: dict(c) for c in old}
        self.stamp = stamp

    def set(self, kind: str, cond: tuple[str, str, str]) -> None:
        status, reason, message = cond
        was = self.by_type.get(kind)
        since = was["lastTransitionTime"] if was and was["status"] == status else self.stamp
        self.by_type[kind] = {
            "type": kind,
            "status": status,
            "lastTransitionTime": since,
            "reason": reason,
            "message": message,
        }

    def out(self) -> list[dict[str, str]]:
        order = ["AbleToScale", "ScalingActive", "ScalingLimited"]
        return [self.by_type[k] for k in order if k in self.by_type]


def _no_scale(target: str, status: dict[str, Any], conds: Conditions) -> dict[str, Any]:
    """The target cannot be read through its scale subresource (FailedGetScale)."""
    conds.set(
        "AbleToScale",
        (
            "False",
            "FailedGetScale",
            "the HPA controller was unable to get the target's "
            f'current scale: deployments/scale.apps "{target}" not found',
        ),
    )
    return {**status, "desiredReplicas": 0, "conditions": conds.out()}


def _status(status: dict[str, Any], conds: Conditions) -> dict[str, Any]:
    """HorizontalPodAutoscalerStatus: currentReplicas omitempty, desiredReplicas not."""
    out = {k: v for k, v in status.items() if v not in (0, None)}
    return out | {"desiredReplicas": status.get("desiredReplicas", 0), "conditions": conds.out()}
