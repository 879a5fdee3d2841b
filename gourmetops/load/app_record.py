"""What the experiment ran under, recorded beside its results (experiment.json's "app"): the
CPU request and limit, and the HPA's range, target and scale-down window, read from the
objects it applies, so the plots draw the limit and the target the run really had."""

from __future__ import annotations

from typing import Any

Objects = dict[str, dict[str, Any]]

DEFAULT_SCALE_DOWN_WINDOW = 300.0  # Kubernetes' HPA default (--horizontal-pod-autoscaler-...)


def recorded_app(objects: Objects) -> dict[str, Any]:
    """What the plots are drawn against, from the objects the experiment applies: the first
    container's CPU request and limit, and the HPA's range, target and scale-down window."""
    container = objects["deployment"]["spec"]["template"]["spec"]["containers"][0]
    resources = container.get("resources") or {}
    hpa = objects["hpa"]["spec"]
    down = (hpa.get("behavior") or {}).get("scaleDown") or {}
    window = down.get("stabilizationWindowSeconds", DEFAULT_SCALE_DOWN_WINDOW)
    request = (resources.get("requests") or {}).get("cpu")
    limit = (resources.get("limits") or {}).get("cpu")
    return {
        "cpu_request": None if request is None else str(request),
        "cpu_limit": None if limit is None else str(limit),
        "hpa_min": hpa["minReplicas"],
        "hpa_max": hpa["maxReplicas"],
        "hpa_cpu_percent": hpa["metrics"][0]["resource"]["target"]["averageUtilization"],
        "scale_down_window": float(window),
    }
