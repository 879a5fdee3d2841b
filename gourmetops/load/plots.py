"""The experiment report's PNGs, drawn to be put on a slide: every series visible (its own
colour from the Okabe-Ito palette, which colour-blind readers tell apart, line style and
marker), legends beside the data, axes from 0, whole replica counts, the CPU limit and the
HPA's target drawn where the run recorded them, the HPA's scale-down window marked, and
titles that say what happened. 150 dpi.

Drawn from the checked model's dump (gourmetops.load.report.load), never the raw file.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from gourmetops.quantity import parse_quantity

DPI = 150
# Okabe & Ito, "Color Universal Design": blue, orange, bluish green, reddish purple, ...
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000")
STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
# Not among the first four series' colours: the limit vermillion, the target black.
LIMIT_COLOUR, TARGET_COLOUR, WINDOW_COLOUR = "#D55E00", "#000000", "#F0E442"
DEFAULT_WINDOW = 300.0  # Kubernetes' HPA scale-down stabilization window, when not recorded


def millis(value: str) -> float:
    return float(parse_quantity(value)) * 1000


def _style(i: int) -> dict[str, Any]:
    """Series `i`'s look: colour, line style and marker all differ, and earlier series are
    drawn wider, so two series on the same values (6 replicas twice) both show."""
    return {
        "color": PALETTE[i % len(PALETTE)],
        "linestyle": STYLES[i % len(STYLES)],
        "marker": MARKERS[i % len(MARKERS)],
        "linewidth": max(1.2, 3.2 - 0.7 * i),
        "markersize": max(4.0, 9.0 - 1.5 * i),
        "markerfacecolor": "none" if i % 2 else PALETTE[i % len(PALETTE)],
    }


def _busiest_cpu(sample: dict[str, Any]) -> float:
    return max((millis(u["cpu"]) for u in (sample.get("pods") or {}).values()), default=0.0)


def _cpu_lines(data: dict[str, Any]) -> list[tuple[float, str, str]]:
    """(millicores, label, colour) of the CPU limit and the HPA's per-pod target, as the run
    recorded them (none for results that did not record them)."""
    app = data.get("app") or {}
    lines = []
    if app.get("cpu_limit"):
        limit = millis(app["cpu_limit"])
        lines.append((limit, f"CPU limit per pod ({limit:.0f}m)", LIMIT_COLOUR))
    if app.get("cpu_request") and app.get("hpa_cpu_percent"):
        request, percent = millis(app["cpu_request"]), app["hpa_cpu_percent"]
        target = request * percent / 100
        label = f"HPA target: {target:.0f}m per pod on average "
        label += f"({percent:g}% of the {request:.0f}m request)"
        lines.append((target, label, TARGET_COLOUR))
    return lines


def _changed(scenarios: list[dict[str, Any]]) -> str:
    """What the replica panel shows happened, in a few words."""
    for s in scenarios:
        counts = [x.get("replicas") or 0 for x in s["samples"]]
        if counts and max(counts) > counts[0]:
            at = next(x["t"] for x in s["samples"] if (x.get("replicas") or 0) == max(counts))
            return f"the HPA went from {counts[0]} to {max(counts)} replicas within {at:.0f} s"
    return "no replica count changed during a load test"


def _cpu_said(scenarios: list[dict[str, Any]], data: dict[str, Any]) -> str:
    peak = {s["name"]: max((_busiest_cpu(x) for x in s["samples"]), default=0.0) for s in scenarios}
    name = max(peak, key=lambda n: peak[n])
    limit = next((m for m, label, _ in _cpu_lines(data) if label.startswith("CPU limit")), None)
    if limit and peak[name] >= 0.95 * limit:
        return f"with {name}, the busiest pod ran at its {limit:.0f}m limit"
    return f"the busiest pod peaked at {peak[name]:.0f}m (with {name})"


def _whole_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def replicas_cpu(plt: Any, data: dict[str, Any]) -> Any:
    """Ready replicas and the busiest pod's CPU during each load test, one series each."""
    scenarios = data["scenarios"]
    fig, (ax_rep, ax_cpu) = plt.subplots(2, 1, figsize=(10, 7.5), sharex=True, layout="constrained")
    for i, s in enumerate(scenarios):
        t = [x["t"] for x in s["samples"]]
        look = _style(i)
        ax_rep.plot(t, [x.get("replicas") or 0 for x in s["samples"]], label=s["name"], **look)
        ax_cpu.plot(t, [_busiest_cpu(x) for x in s["samples"]], label=s["name"], **look)
    top_cpu = max([1.0] + [_busiest_cpu(x) for s in scenarios for x in s["samples"]])
    for value, label, colour in _cpu_lines(data):
        ax_cpu.axhline(value, color=colour, linestyle=(0, (6, 3)), linewidth=1.5, zorder=1)
        where = {"xycoords": ("axes fraction", "data"), "textcoords": "offset points"}
        ax_cpu.annotate(label, (0.005, value), xytext=(0, 3), color=colour, fontsize=9, **where)
        top_cpu = max(top_cpu, value)
    top_rep = max([1] + [x.get("replicas") or 0 for s in scenarios for x in s["samples"]])
    ax_rep.set_ylim(0, top_rep + 0.7)
    ax_cpu.set_ylim(0, top_cpu * 1.18)
    _whole_ticks(ax_rep)
    ax_rep.set_ylabel("ready replicas")
    ax_cpu.set_ylabel("busiest pod's CPU (millicores)")
    ax_cpu.set_xlabel("seconds into the load test")
    ax_cpu.set_xlim(left=0)
    ax_rep.set_title(f"Replicas: {_changed(scenarios)}", loc="left", fontsize=11)
    ax_cpu.set_title(f"CPU: {_cpu_said(scenarios, data)}", loc="left", fontsize=11)
    for ax in (ax_rep, ax_cpu):
        ax.grid(axis="y", alpha=0.3)
    handles, labels = ax_rep.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False)
    fig.suptitle("Replicas and CPU during each load test", fontweight="bold")
    return fig


def _scale_down_title(down: dict[str, Any]) -> str:
    samples = down["samples"]
    counts = [x.get("replicas") or 0 for x in samples]
    peak, minimum, seconds = down.get("peak", max(counts)), down.get("min"), down.get("seconds", 0)
    first_drop = next((x["t"] for x in samples if (x.get("replicas") or 0) < counts[0]), None)
    outcome = down.get("outcome")
    if outcome == "scaled_down" and first_drop is not None:
        return (
            f"The HPA held {counts[0]} replicas for {first_drop:.0f} s after the load, "
            f"then scaled back to {minimum} by {seconds:.0f} s"
        )
    if outcome == "still_scaled_up":
        return f"Still {counts[-1]} replicas {seconds:.0f} s after the load (peak {peak})"
    if outcome == "no_scale_up":
        return f"No scale-up to undo: replicas stayed at the HPA minimum of {minimum}"
    return f"Replicas after the load ({'minimum reached' if down.get('reached') else 'watch'})"


def scale_down(plt: Any, data: dict[str, Any]) -> Any:
    """The scale-down watch: replicas after the last load test, the HPA's minimum and its
    stabilization window (no scale-down before the window has passed)."""
    down = data.get("scale_down")
    if not (down and down.get("samples")):
        return None
    fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    t = [x["t"] for x in down["samples"]]
    counts = [x.get("replicas") or 0 for x in down["samples"]]
    window = (data.get("app") or {}).get("scale_down_window", DEFAULT_WINDOW)
    ax.axvspan(0, window, color=WINDOW_COLOUR, alpha=0.25, linewidth=0,
               label=f"HPA scale-down stabilization window ({window:.0f} s)")  # fmt: skip
    ax.step(t, counts, where="post", label="ready replicas", **_style(0))
    if down.get("min") is not None:
        ax.axhline(down["min"], color="#555555", linestyle=(0, (6, 3)), linewidth=1.5,
                   label=f"HPA minimum ({down['min']})")  # fmt: skip
    ax.set_ylim(0, max(counts + [down.get("min") or 0]) + 0.7)
    ax.set_xlim(0, max(t + [window]) * 1.03)
    _whole_ticks(ax)
    ax.set_xlabel("seconds after the last load test")
    ax.set_ylabel("ready replicas")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title(_scale_down_title(down), loc="left", fontsize=11)
    return fig


def _bars(ax: Any, names: list[str], values: list[float], labels: list[str], xlabel: str) -> None:
    """Horizontal bars in the series' colours and hatches, each labelled at its end."""
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    hatches = ["", "//", "..", "xx", "\\\\", "++", "oo"]
    bars = ax.barh(names, values, color=colours, edgecolor="black", linewidth=0.6)
    for bar, hatch in zip(bars, hatches * (len(names) // len(hatches) + 1), strict=False):
        bar.set_hatch(hatch)
    ax.bar_label(bars, labels=labels, padding=3)
    ax.set_xlim(0, max(values, default=0) * 1.25 or 1)
    ax.set_xlabel(xlabel)


def _wrapped(data: dict[str, Any]) -> list[str]:
    # Horizontal bars: the scenario names ("autoscaling (2-6, CPU 50%), second run") are
    # too long to sit side by side under vertical bars; wrapped, they stay whole and level.
    return [textwrap.fill(s["name"], 28) for s in data["scenarios"]]


def response_time(plt: Any, data: dict[str, Any]) -> Any:
    """Mean response time per scenario."""
    results = [s["result"] for s in data["scenarios"]]
    times = [r["response_time"] for r in results]
    fig, ax = plt.subplots(figsize=(10, 1.8 + 0.8 * len(times)), layout="constrained")
    _bars(ax, _wrapped(data), times, [f"{t:.2f} s" for t in times], "mean response time (s)")
    ax.invert_yaxis()  # first scenario on top, in run order
    slow, fast = times.index(max(times)), times.index(min(times))
    names = [s["name"] for s in data["scenarios"]]
    ax.set_title(
        f"Mean response time: {times[slow]:.2f} s with {names[slow]}, "
        f"{times[fast]:.2f} s with {names[fast]}",
        loc="left",
        fontsize=11,
    )
    return fig


def throughput_failures(plt: Any, data: dict[str, Any]) -> Any:
    """Transactions per second and failed transactions per scenario, side by side (what
    the tutorial asks to note besides the response time)."""
    results = [s["result"] for s in data["scenarios"]]
    rates = [r["transaction_rate"] for r in results]
    failed = [float(r["failed_transactions"]) for r in results]
    fig, (ax_rate, ax_failed) = plt.subplots(
        1, 2, figsize=(11, 1.8 + 0.8 * len(rates)), sharey=True, layout="constrained"
    )
    _bars(ax_rate, _wrapped(data), rates, [f"{r:.1f}/s" for r in rates], "transactions per second")
    shares = [
        f"{f:.0f} ({100 - r['availability']:.1f}%)" for f, r in zip(failed, results, strict=True)
    ]
    _bars(ax_failed, _wrapped(data), failed, shares, "failed transactions (share of all)")
    ax_rate.invert_yaxis()  # first scenario on top, in run order (the axes share y)
    names = [s["name"] for s in data["scenarios"]]
    best = rates.index(max(rates))
    worst = failed.index(max(failed))
    said = f"most served: {names[best]} ({rates[best]:.1f}/s)"
    if max(failed):
        said += f"; most failed: {names[worst]} ({failed[worst]:.0f})"
    else:
        said += "; none failed"
    fig.suptitle(f"Throughput and failures: {said}", x=0.01, ha="left", fontsize=11)
    return fig


DRAWN = (
    ("replicas_cpu.png", replicas_cpu),
    ("scale_down.png", scale_down),
    ("response_time.png", response_time),
    ("throughput_failures.png", throughput_failures),
)


def draw(data: dict[str, Any], out_dir: Path) -> list[Path]:
    """Every plot the data has, as PNGs at DPI in `out_dir`; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    from gourmetops.load.timeline_plot import timeline  # it draws in this module's styles

    written = []
    for name, plot in (("timeline.png", timeline), *DRAWN):
        fig = plot(plt, data)
        if fig is None:
            continue
        fig.savefig(out_dir / name, dpi=DPI)
        plt.close(fig)
        written.append(out_dir / name)
    return written
