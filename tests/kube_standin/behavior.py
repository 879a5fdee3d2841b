"""The HPA's scaling behaviour, standing in for kube-controller-manager's (which cannot run
here): kubernetes v1.30 pkg/controller/podautoscaler/horizontal.go
normalizeDesiredReplicasWithBehaviors, stabilizeRecommendationWithBehaviors,
convertDesiredReplicasWithBehaviorRate and the scale-rate limits, on the HPA's (defaulted)
spec.behavior. Times are modelled seconds."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# --horizontal-pod-autoscaler-downscale-stabilization, for a scaleDown without a window
# (maybeInitScaleDownStabilizationWindow)
DOWNSCALE_STABILISATION = 300.0

Condition = tuple[str, str, str]  # status, reason, message


@dataclass
class History:
    """One HPA's recommendations and scale events, as the controller keeps them."""

    recommendations: list[tuple[float, int]] = field(default_factory=list)
    ups: list[tuple[float, int]] = field(default_factory=list)  # (when, replicas added)
    downs: list[tuple[float, int]] = field(default_factory=list)

    def record_scale(self, now: float, before: int, after: int) -> None:
        """storeScaleEvent (events older than the longest policy period are dropped)."""
        (self.ups if after > before else self.downs).append((now, abs(after - before)))
        self.ups = [e for e in self.ups if now - e[0] < 1800]
        self.downs = [e for e in self.downs if now - e[0] < 1800]

    def changed_since(self, events: list[tuple[float, int]], now: float, period: float) -> int:
        """getReplicasChangePerPeriod: the change of events after now - period."""
        return sum(n for t, n in events if t > now - period)


def stabilise(h: History, behavior: dict[str, Any], current: int, desired: int, now: float):
    """stabilizeRecommendationWithBehaviors: the current count bounded below by the lowest
    recommendation of the scale-up window and above by the highest of the scale-down
    window; the unstabilised recommendation is recorded. Returns (count, AbleToScale)."""
    up_window = behavior["scaleUp"].get("stabilizationWindowSeconds", 0)
    down_window = behavior["scaleDown"].get("stabilizationWindowSeconds", DOWNSCALE_STABILISATION)
    up = min([r for t, r in h.recommendations if t > now - up_window] + [desired])
    down = max([r for t, r in h.recommendations if t > now - down_window] + [desired])
    keep = max(up_window, down_window)
    h.recommendations = [(t, r) for t, r in h.recommendations if t >= now - keep]
    h.recommendations.append((now, desired))
    stable = min(max(current, up), down)
    if stable == desired:
        return stable, ("True", "ReadyForNewScale", "recommended size matches current size")
    if desired >= current:
        return stable, (
            "True",
            "ScaleUpStabilized",
            "recent recommendations were lower than current one, "
            "applying the lowest recent recommendation",
        )
    return stable, (
        "True",
        "ScaleDownStabilized",
        "recent recommendations were higher than current one, "
        "applying the highest recent recommendation",
    )


def _limit(h: History, rules: dict[str, Any], current: int, now: float, up: bool) -> int:
    """calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors."""
    proposals = []
    for policy in rules["policies"]:
        period = policy["periodSeconds"]
        start = (
            current - h.changed_since(h.ups, now, period) + h.changed_since(h.downs, now, period)
        )
        value = policy["value"]
        if policy["type"] == "Pods":
            proposals.append(start + value if up else start - value)
        elif up:
            proposals.append(math.ceil(start * (1 + value / 100)))
        else:
            proposals.append(int(start * (1 - value / 100)))
    select = rules.get("selectPolicy", "Max")
    if select == "Disabled":
        return current
    # the highest change: for a scale-up the highest count, for a scale-down the lowest
    return (max if (select == "Max") == up else min)(proposals)


def rate_limit(h: History, spec: dict[str, Any], current: int, desired: int, now: float):
    """convertDesiredReplicasWithBehaviorRate: bounded by the scale rate and min/max.
    Returns (count, (status is set by the caller) reason, message)."""
    behavior, lo, hi = spec["behavior"], spec.get("minReplicas", 1), spec["maxReplicas"]
    if desired > current:
        limit = max(_limit(h, behavior["scaleUp"], current, now, True), current)
        if hi > limit:
            allowed, reason = limit, "ScaleUpLimit"
            message = "the desired replica count is increasing faster than the maximum scale rate"
        else:
            allowed, reason = hi, "TooManyReplicas"
            message = "the desired replica count is more than the maximum replica count"
        if desired > allowed:
            return allowed, reason, message
    elif desired < current:
        limit = min(_limit(h, behavior["scaleDown"], current, now, False), current)
        if lo < limit:
            allowed, reason = limit, "ScaleDownLimit"
            message = "the desired replica count is decreasing faster than the maximum scale rate"
        else:
            allowed, reason = lo, "TooFewReplicas"
            message = "the desired replica count is less than the minimum replica count"
        if desired < allowed:
            return allowed, reason, message
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"
