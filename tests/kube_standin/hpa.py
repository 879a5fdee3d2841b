"""The HPA controller (pkg/controller/podautoscaler/horizontal.go, replica_calculator.go),
for a Resource cpu Utilization metric, with the defaults of kube-controller-manager:
--horizontal-pod-autoscaler-sync-period 15s, a 0.1 tolerance, and the scale-down
stabilisation window of 300 s (the highest recommendation of the last 300 s is used), as
https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details
describes. Times are the cluster's modelled seconds. Like v1.30's controller it writes no
status.observedGeneration (setStatus in horizontal.go)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.kube_standin.cluster import Cluster

SYNC_PERIOD = 15.0
TOLERANCE = 0.1
MANAGER = "kube-controller-manager"


class Autoscaler:
    def __init__(self, first_sync: float) -> None:
        self.next_sync = first_sync
        self.recommendations: list[tuple[float, int]] = []

    def sync(self, cluster: Cluster, hpa: dict[str, Any]) -> None:
        while cluster.now() >= self.next_sync:
            self._sync(cluster, hpa, self.next_sync)
            self.next_sync += SYNC_PERIOD

    def _sync(self, cluster: Cluster, hpa: dict[str, Any], now: float) -> None:
        spec, ns = hpa["spec"], hpa["metadata"]["namespace"]
        target = spec["scaleTargetRef"]["name"]
        dep = cluster.objects.get(("deployments", ns, target))
        status: dict[str, Any] = {"desiredReplicas": 0}
        stamp = cluster.stamp()
        old = hpa.get("status") or {}
        if "lastScaleTime" in old:
            status["lastScaleTime"] = old["lastScaleTime"]
        if dep is None:
            status["conditions"] = [
                _cond(
                    "AbleToScale",
                    "False",
                    "FailedGetScale",
                    f"the HPA controller was unable to get the target's current scale: "
                    f'deployments/scale.apps "{target}" not found',
                    stamp,
                )
            ]
            hpa["status"] = status
            return
        current = dep["spec"]["replicas"]
        lo, hi = spec.get("minReplicas", 1), spec["maxReplicas"]
        target_util = spec["metrics"][0]["resource"]["target"]["averageUtilization"]
        conditions = [
            _cond(
                "AbleToScale",
                "True",
                "SucceededGetScale",
                "the HPA controller was able to get the target's current scale",
                stamp,
            )
        ]
        metric = None
        if current == 0:
            desired = 0
            conditions.append(
                _cond(
                    "ScalingActive",
                    "False",
                    "ScalingDisabled",
                    "scaling is disabled since the replica count of the target is zero",
                    stamp,
                )
            )
        elif cluster.metrics != "ready" or cluster.cpu_per_pod_m(ns, target) == 0:
            desired = min(max(current, lo), hi)  # out of range: clamped without metrics
            conditions.append(
                _cond(
                    "ScalingActive",
                    "False",
                    "FailedGetResourceMetric",
                    "the HPA was unable to compute the replica count: failed to get cpu "
                    "utilization: unable to get metrics for resource cpu: unable to fetch metrics "
                    "from resource metrics API: the server is currently unable to handle the "
                    "request (get pods.metrics.k8s.io)",
                    stamp,
                )
            )
        else:
            container = dep["spec"]["template"]["spec"]["containers"][0]
            request = container["resources"]["requests"]["cpu"]
            from kubernetes.utils.quantity import parse_quantity

            usage = cluster.cpu_per_pod_m(ns, target)
            util = int(usage * 100 // (float(parse_quantity(request)) * 1000))
            average = f"{math.ceil(usage)}m"
            metric = {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "current": {"averageUtilization": util, "averageValue": average},
                },
            }
            ratio = util / target_util
            raw = current if abs(ratio - 1) <= TOLERANCE else math.ceil(ratio * current)
            conditions.append(
                _cond(
                    "ScalingActive",
                    "True",
                    "ValidMetricFound",
                    "the HPA was able to successfully calculate a replica count "
                    "from cpu resource utilization (percentage of request)",
                    stamp,
                )
            )
            # Stabilisation: scale up at once (window 0), down to the highest recommendation
            # of the last 300 s; scale up by at most max(4 pods, 100%) per 15 s period.
            self.recommendations = [(t, r) for t, r in self.recommendations if now - t < 300]
            self.recommendations.append((now, raw))
            stable = raw if raw >= current else max(r for _, r in self.recommendations)
            if stable != raw:
                conditions[0] = _cond(
                    "AbleToScale",
                    "True",
                    "ScaleDownStabilized",
                    "recent recommendations were higher than current one, "
                    "applying the highest recent recommendation",
                    stamp,
                )
            desired = min(stable, max(current + 4, current * 2))
            if desired < lo or desired > hi:
                which = "TooFewReplicas" if desired < lo else "TooManyReplicas"
                desired = min(max(desired, lo), hi)
                conditions.append(
                    _cond(
                        "ScalingLimited",
                        "True",
                        which,
                        f"the desired replica count is "
                        f"{'less' if which == 'TooFewReplicas' else 'more'} "
                        f"than the {'minimum' if desired == lo else 'maximum'}"
                        " replica count",
                        stamp,
                    )
                )
            else:
                conditions.append(
                    _cond(
                        "ScalingLimited",
                        "False",
                        "DesiredWithinRange",
                        "the desired count is within the acceptable range",
                        stamp,
                    )
                )
        if desired != current and desired:
            cluster.scale(ns, target, desired, MANAGER)
            status["lastScaleTime"] = stamp
            conditions[0] = _cond(
                "AbleToScale",
                "True",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
                stamp,
            )
        status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        if metric:
            status["currentMetrics"] = [metric]
        old_conditions = {c["type"]: c for c in old.get("conditions", [])}
        for c in conditions:
            was = old_conditions.get(c["type"])
            if was and was["status"] == c["status"]:
                c["lastTransitionTime"] = was["lastTransitionTime"]
        status["conditions"] = conditions
        hpa["status"] = {k: v for k, v in status.items() if v not in (0, None)} | {
            "desiredReplicas": desired
        }


def _cond(kind: str, status: str, reason: str, message: str, at: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": status,
        "lastTransitionTime": at,
        "reason": reason,
        "message": message,
    }
