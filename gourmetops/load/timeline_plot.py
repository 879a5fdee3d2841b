"""The experiment's timeline as one figure: ready replicas over the whole run, each load test
shaded, and the times the cluster's defaults allow (load/timing.py) beside the times seen:
when a scale-up was expected and came, when the minimum was expected back and came.
Drawn only from results that recorded when each part started (and their timing judgement).
"""

from __future__ import annotations

from typing import Any

from gourmetops.load.plots import PALETTE, WINDOW_COLOUR, _whole_ticks
from gourmetops.load.timeline import timed

LOAD_COLOURS = ("#56B4E9", "#009E73", "#E69F00", "#CC79A7")


def _points(data: dict[str, Any]) -> list[tuple[float, int]]:
    """(seconds from the experiment's start, ready replicas) of every timed sample."""
    records = [*data["scenarios"], data.get("pause"), data.get("scale_down")]
    return [(t, s.get("replicas") or 0) for t, s in timed(records)]


def _title(timing: dict[str, Any], minimum: Any) -> str:
    up, down = timing["first_scale_up"], timing["back_to_minimum"]

    def seen(j: dict[str, Any]) -> str:
        return "not seen" if j.get("observed") is None else f"after {j['observed']:.0f} s"

    return (
        f"First scale-up {seen(up)} (expected within {up['expected_within']:.0f} s: "
        f"{up['verdict']}); back to {minimum} {seen(down)} (expected "
        f"{down.get('expected_from') or 0:.0f}-{down['expected_within']:.0f} s: {down['verdict']})"
    )


def timeline(plt: Any, data: dict[str, Any]) -> Any:
    """None for results without start times or a timing judgement (older runs)."""
    points, timing = _points(data), data.get("timing")
    auto = [s for s in data["scenarios"] if s["name"].startswith("autoscaling")]
    if not points or not timing or not auto or auto[0].get("started") is None:
        return None
    app, duration = data.get("app") or {}, data.get("duration") or 0
    fig, ax = plt.subplots(figsize=(11, 5), layout="constrained")
    for i, s in enumerate(data["scenarios"]):
        if s.get("started") is not None:
            ax.axvspan(s["started"], s["started"] + duration, color=LOAD_COLOURS[i % 4],
                       alpha=0.25, linewidth=0, label=f"load test: {s['name']}")  # fmt: skip
    ax.step([t for t, _ in points], [n for _, n in points], where="post",
            label="ready replicas (sampled)", color=PALETTE[0], linewidth=2.4)  # fmt: skip
    up, down = timing["first_scale_up"], timing["back_to_minimum"]
    start = auto[0]["started"]
    ax.axvline(start + up["expected_within"], color=PALETTE[4], linestyle=(0, (6, 3)),
               label=f"scale-up expected by ({up['expected_within']:.0f} s)")  # fmt: skip
    end = (data.get("scale_down") or {}).get("started")
    if end is not None:
        low = end + (down.get("expected_from") or 0)
        ax.axvspan(low, end + down["expected_within"], color=WINDOW_COLOUR, alpha=0.45,
                   linewidth=0, label="minimum expected back")  # fmt: skip
    for j, ref, marker in ((up, start, "^"), (down, end, "v")):
        if j.get("observed") is not None and ref is not None:
            ax.plot([ref + j["observed"]], [0.3], marker=marker, color="#000000",
                    markersize=10, linestyle="none")  # fmt: skip
    if app.get("hpa_min") is not None:
        ax.axhline(app["hpa_min"], color="#555555", linestyle=":", linewidth=1.2,
                   label=f"HPA minimum ({app['hpa_min']})")  # fmt: skip
    ax.set_ylim(0, max(n for _, n in points) + 0.8)
    ax.set_xlim(left=0)
    _whole_ticks(ax)
    ax.set_xlabel("seconds from the experiment's start (triangles: the times observed)")
    ax.set_ylabel("ready replicas")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=9)
    ax.set_title(_title(timing, app.get("hpa_min", "the minimum")), loc="left", fontsize=10)
    fig.suptitle("The experiment's timeline", fontweight="bold")
    return fig
