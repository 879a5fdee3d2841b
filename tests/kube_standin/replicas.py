"""The HPA's replica calculator for a cpu Utilization target, standing in for
kube-controller-manager's (which cannot run here): kubernetes v1.30
pkg/controller/podautoscaler/replica_calculator.go GetResourceReplicas and groupPods, with
metrics/utilization.go GetResourceUtilizationRatio. Times are modelled seconds."""

from __future__ import annotations

import math
from dataclasses import dataclass

TOLERANCE = 0.1  # --horizontal-pod-autoscaler-tolerance
CPU_INITIALIZATION_PERIOD = 300.0  # --horizontal-pod-autoscaler-cpu-initialization-period
INITIAL_READINESS_DELAY = 30.0  # --horizontal-pod-autoscaler-initial-readiness-delay


@dataclass(frozen=True)
class PodView:
    """What the controller reads of a pod: its phase, Ready condition, start time, request,
    and metrics-server's sample (value m, timestamp, window) if it has one."""

    name: str
    deleting: bool
    pending: bool
    ready: bool
    ready_changed: float  # the Ready condition's lastTransitionTime
    started: float  # status.startTime
    request_m: float
    metric: tuple[float, float, float] | None


@dataclass(frozen=True)
class Result:
    replicas: int
    utilization: int
    average_m: float


def _group(pods: list[PodView], now: float) -> tuple[list[PodView], set[str], set[str]]:
    """groupPods: (counted, unready, missing); deleted pods are ignored."""
    counted: list[PodView] = []
    unready: set[str] = set()
    missing: set[str] = set()
    for p in pods:
        if p.deleting:
            continue
        if p.pending:
            unready.add(p.name)
        elif p.metric is None:
            missing.add(p.name)
        elif p.started + CPU_INITIALIZATION_PERIOD > now:
            # in its start-up period: set aside unless ready for one metric window already
            _, stamp, window = p.metric
            if p.ready and stamp >= p.ready_changed + window:
                counted.append(p)
            else:
                unready.add(p.name)
        elif not p.ready and p.started + INITIAL_READINESS_DELAY > p.ready_changed:
            unready.add(p.name)  # unready and never been ready
        else:
            counted.append(p)
    return counted, unready, missing


def _ratio(values: dict[str, float], requests: dict[str, float], target: int) -> tuple[float, int]:
    """GetResourceUtilizationRatio: utilisation as a whole percentage of the requests."""
    utilization = int(sum(values.values()) * 100 / sum(requests[n] for n in values))
    return utilization / target, utilization


def replicas(pods: list[PodView], current: int, target: int, now: float) -> Result | str:
    """GetResourceReplicas: the replica count for `target` % of the request, or the error."""
    if not pods:
        return "no pods returned by selector while calculating replica count"
    counted, unready, missing = _group(pods, now)
    if not counted:
        return "did not receive metrics for targeted pods (pods might be unready)"
    requests = {p.name: p.request_m for p in pods}
    values = {p.name: p.metric[0] for p in counted if p.metric}
    ratio, utilization = _ratio(values, requests, target)
    average = sum(values.values()) / len(values)
    up_with_unready = bool(unready) and ratio > 1.0
    if not up_with_unready and not missing:
        if abs(1.0 - ratio) <= TOLERANCE:
            return Result(current, utilization, average)
        return Result(math.ceil(ratio * len(counted)), utilization, average)
    if missing and ratio < 1.0:  # scale-down: missing pods taken at 100% of request
        values |= {n: requests[n] * max(100, target) / 100 for n in missing}
    elif missing and ratio > 1.0:  # scale-up: missing pods taken at 0
        values |= {n: 0.0 for n in missing}
    if up_with_unready:
        values |= {n: 0.0 for n in unready}
    new_ratio, _ = _ratio(values, requests, target)
    flips = (ratio < 1.0 < new_ratio) or (new_ratio < 1.0 < ratio)
    if abs(1.0 - new_ratio) <= TOLERANCE or flips:
        return Result(current, utilization, average)
    proposed = math.ceil(new_ratio * len(values))
    if (new_ratio < 1.0 and proposed > current) or (new_ratio > 1.0 and proposed < current):
        return Result(current, utilization, average)
    return Result(proposed, utilization, average)
