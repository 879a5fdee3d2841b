"""The experiment's observed timing set against what the cluster's defaults allow
(load/timing.py): when ready replicas first rose above the HPA's minimum, and when they were
back at it. A result the run cannot judge (no metrics, a load too light to pass the target)
is called inconclusive with the reason, never a verdict.

    >>> judge(data, Timing(readiness=20.0), sample_every=5.0)["first_scale_up"]
    {'expected_within': 70.0, 'observed': 35.0, 'verdict': 'as expected', 'why': ''}
"""

from __future__ import annotations

from typing import Any

from gourmetops.load.plots import millis
from gourmetops.load.timing import Timing


def timed(records: list[dict[str, Any] | None]) -> list[tuple[float, dict[str, Any]]]:
    """The records' samples on the experiment's clock (each record's start plus each
    sample's t), in time order; records without a start are left out."""
    return sorted(
        ((r["started"] + s["t"], s) for r in records if r and r.get("started") is not None
         for s in r.get("samples", [])),
        key=lambda point: point[0],
    )  # fmt: skip


def _busiest_m(samples: list[dict[str, Any]]) -> float | None:
    """The highest pod CPU (millicores) read, or None when no pod metrics were read."""
    values = [millis(u["cpu"]) for s in samples for u in (s.get("pods") or {}).values()]
    return max(values) if values else None


def _target_m(app: dict[str, Any]) -> float | None:
    if app.get("cpu_request") is None or app.get("hpa_cpu_percent") is None:
        return None
    return millis(app["cpu_request"]) * app["hpa_cpu_percent"] / 100


def _no_scale_up_why(data: dict[str, Any], timing: Timing, loaded: list[dict[str, Any]]) -> str:
    """Why no scale-up was seen, when the run itself explains it; '' when it does not."""
    if (data.get("duration") or 0) < timing.whole_window:
        return (
            f"load tests of {data.get('duration')}s are shorter than two metric resolutions "
            f"({timing.whole_window:g}s): metrics-server may never have read the load whole"
        )
    busiest = _busiest_m(loaded)
    if busiest is None:
        return (
            "no pod metrics were read during the autoscaling load tests: metrics-server was "
            "not answering, so the HPA had nothing to scale on"
        )
    target = _target_m(data.get("app") or {})
    if target is not None and busiest <= target:
        return (
            f"the load never brought a pod's CPU above the HPA's target (busiest {busiest:.0f}m, "
            f"target {target:.0f}m): no scale-up was to be expected; raise --concurrency"
        )
    return ""


def first_scale_up(data: dict[str, Any], timing: Timing, sample_every: float) -> dict[str, Any]:
    """Seconds from the first autoscaling load test's start to ready replicas above the
    minimum, against timing.scale_up_within."""
    minimum = (data.get("app") or {}).get("hpa_min") or 1
    auto = [s for s in data["scenarios"] if s["name"].startswith("autoscaling")]
    expected = timing.scale_up_within
    out: dict[str, Any] = {"expected_within": expected, "observed": None}
    if not auto or auto[0].get("started") is None:
        return out | {"verdict": "inconclusive", "why": "no autoscaling load test was timed"}
    start = auto[0]["started"]
    points = timed([*auto, data.get("pause"), data.get("scale_down")])
    seen = [t for t, s in points if (s.get("replicas") or 0) > minimum]
    if seen:
        observed = round(seen[0] - start, 1)
        late = observed > expected + sample_every
        return out | {
            "observed": observed,
            "verdict": "later than expected" if late else "as expected",
            "why": (
                "slower than the defaults allow: a longer metric resolution or sync period, "
                "or pods slow to become Ready (image pulls)"
                if late
                else ""
            ),
        }
    why = _no_scale_up_why(data, timing, [s for r in auto for s in r.get("samples", [])])
    if why:
        return out | {"verdict": "inconclusive", "why": why}
    return out | {
        "verdict": "not observed",
        "why": f"CPU passed the target, yet ready replicas never rose above {minimum}: "
        "`kubectl describe hpa` shows the HPA's conditions",
    }


def back_to_minimum(data: dict[str, Any], timing: Timing, sample_every: float) -> dict[str, Any]:
    """Seconds from the last load test's end to ready replicas back at the minimum, against
    the window the defaults allow (the stabilisation window, give or take a reading)."""
    down = data.get("scale_down") or {}
    earliest = timing.scale_down_from
    out: dict[str, Any] = {
        "expected_from": earliest,
        "expected_within": timing.scale_down_within,
        "observed": None,
    }
    outcome = down.get("outcome")
    if outcome == "no_scale_up":
        return out | {"verdict": "inconclusive", "why": "no scale-up, so no scale-down to time"}
    if outcome != "scaled_down":
        return out | {
            "verdict": "not observed",
            "why": f"replicas were still above the minimum {down.get('seconds', 0):.0f}s "
            "after the last load test, when the watch stopped",
        }
    observed = down["seconds"]
    out["observed"] = observed
    if observed > timing.scale_down_within + sample_every:
        return out | {"verdict": "later than expected", "why": "a longer stabilisation window?"}
    if observed < earliest - sample_every:
        return out | {
            "verdict": "earlier than expected",
            "why": "sooner than the stabilisation window allows: the HPA's behaviour differs "
            "from the defaults",
        }
    return out | {"verdict": "as expected", "why": ""}


def judge(data: dict[str, Any], timing: Timing, sample_every: float) -> dict[str, Any]:
    """experiment.json's "timing": the defaults used and both judgements."""
    return {
        "defaults": timing.describe(),
        "first_scale_up": first_scale_up(data, timing, sample_every),
        "back_to_minimum": back_to_minimum(data, timing, sample_every),
    }
