"""The load experiment's report: a side-by-side Markdown table and PNG plots, rendered from
the saved results (results/<timestamp>/experiment.json), so `fab report DIR` can redo it.

experiment.json is load/results.py's Experiment, written by the experiment and read here.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gourmetops.bounded import MAX_JSON_DEPTH, TooLarge, json_depth_ok, read_capped
from gourmetops.errors import GourmetopsError
from gourmetops.load import plots
from gourmetops.load.results import MAX_RESULTS_BYTES, Experiment
from gourmetops.safe_write import refuse_unsafe
from gourmetops.validation import problems

COLUMNS = (
    "scenario",
    "transactions",
    "trans/s",
    "mean response (s)",
    "failed",
    "availability (%)",
    "peak replicas",
    "peak CPU per pod (m)",
)


class ReportError(GourmetopsError, ValueError):
    """The results directory cannot be read; the message names the file and key."""


def _scenario_label(path: str, item: Any) -> str | None:
    name = item.get("name") if isinstance(item, dict) else None
    return f"scenario {name!r}" if path == "scenarios" and isinstance(name, str) else None


def _read(path: Path) -> Any:
    """experiment.json parsed, within MAX_RESULTS_BYTES and MAX_JSON_DEPTH."""
    try:
        raw = read_capped(path, MAX_RESULTS_BYTES)
    except OSError as exc:
        raise ReportError(f"{path}: {exc.strerror}") from None
    except TooLarge as exc:
        raise ReportError(str(exc)) from None
    if not json_depth_ok(raw):
        raise ReportError(f"{path}: nested deeper than {MAX_JSON_DEPTH} levels; not results")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ReportError(f"{path}: not valid JSON ({exc})") from None


def load(results_dir: Path) -> dict[str, Any]:
    """experiment.json, checked whole (strictly: a number written as a string is refused,
    as are NaN and Infinity) before anything is drawn or written."""
    path = results_dir / "experiment.json"
    data = _read(path)
    try:
        checked = Experiment.model_validate(data, strict=True)
    except ValidationError as err:
        lines = problems(err, str(path), data, label_of=_scenario_label)
        raise ReportError("\n".join(lines)) from None
    # Drawn from the model's dump (the keys the file has, the values as the model took them),
    # never from the raw file.
    return checked.model_dump(mode="json", exclude_unset=True)


def peaks(samples: list[dict[str, Any]]) -> tuple[int, float]:
    """Highest replica count and highest per-pod CPU (millicores) among the samples."""
    replicas = max((s.get("replicas") or 0 for s in samples), default=0)
    cpu = 0.0
    for s in samples:
        for usage in (s.get("pods") or {}).values():
            cpu = max(cpu, plots.millis(usage["cpu"]))
    return replicas, cpu


def table(data: dict[str, Any]) -> str:
    rows = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for s in data["scenarios"]:
        r = s["result"]
        replicas, cpu = peaks(s["samples"])
        cells = [
            s["name"],
            f"{r['transactions']}",
            f"{r['transaction_rate']:.2f}",
            f"{r['response_time']:.2f}",
            f"{r['failed_transactions']}",
            f"{r['availability']:.2f}",
            f"{replicas}",
            f"{cpu:.0f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def scale_down_summary(down: dict[str, Any]) -> str:
    """One sentence on the HPA's scale-down watch, saying whether a scale-up was seen at all."""
    seconds, minimum = down.get("seconds", 0), down.get("min", "its minimum")
    outcome = down.get("outcome")
    if outcome == "scaled_down":
        return (
            f"scaled down: from a peak of {down['peak']} replicas back to {minimum} "
            f"within {seconds:.0f}s of the last load test"
        )
    if outcome == "still_scaled_up":
        last = down["samples"][-1].get("replicas") if down.get("samples") else "?"
        return (
            f"not scaled down: {last} replicas (peak {down['peak']}) still "
            f"{seconds:.0f}s after the last load test; stopped watching"
        )
    if outcome == "no_scale_up":
        return (
            f"no scale-up observed: replicas never rose above the minimum of {minimum} "
            f"(peak {down['peak']}) during the autoscaling load tests or the {seconds:.0f}s "
            "watch after them, so there was no scale-down to see"
        )
    # Results saved before the watch recorded scale-ups: "reached" alone proves no scale-down.
    state = "minimum reached" if down.get("reached") else "minimum not reached"
    return f"{state} after {seconds:.0f}s (this run did not record whether the HPA scaled up)"


def _expected(judged: dict[str, Any]) -> str:
    low = judged.get("expected_from")
    high = judged["expected_within"]
    return f"{low:.0f}-{high:.0f} s" if low is not None else f"within {high:.0f} s"


def timing_lines(timing: dict[str, Any]) -> list[str]:
    """The timing judgements as a Markdown table, each not "as expected" with its reason."""
    rows = [
        ("first scale-up (from the first autoscaling load test's start)", "first_scale_up"),
        ("back to the minimum (from the last load test's end)", "back_to_minimum"),
    ]
    lines = [
        f"Timing, expected from the cluster's defaults ({timing['defaults']}), against observed:",
        "",
        "| event | expected | observed | verdict |",
        "|---|---|---|---|",
    ]
    notes = []
    for label, key in rows:
        j = timing[key]
        seen = "-" if j.get("observed") is None else f"{j['observed']:.0f} s"
        lines.append(f"| {label} | {_expected(j)} | {seen} | {j['verdict']} |")
        if j.get("why"):
            notes.append(f"- {label.split(' (')[0]}: {j['verdict']}: {j['why']}")
    return lines + ([""] + notes if notes else [])


def render(results_dir: Path) -> Path:
    """report.md (and its PNGs) in `results_dir`; returns the report's path. Everything is
    drawn in a scratch directory first and moved in at the end, so a failure leaves the
    existing report files as they were."""
    data = load(results_dir)
    with tempfile.TemporaryDirectory(dir=results_dir, prefix=".report-") as scratch:
        report = _render_into(data, Path(scratch))
        made = sorted(Path(scratch).iterdir())
        for path in made:  # every destination checked before the first is replaced
            refuse_unsafe(results_dir / path.name, "report file")
        for path in made:
            path.replace(results_dir / path.name)
    return results_dir / report.name


def _render_into(data: dict[str, Any], results_dir: Path) -> Path:
    images = plots.draw(data, results_dir)
    lines = [
        "# GourmetGram load experiment",
        "",
        f"Started {data.get('started', '(unknown)')}; siege "
        f"-c {data.get('concurrency', '?')} -t {data.get('duration', '?')}s against "
        f"{data.get('url', '?')}.",
        "",
        table(data),
        "",
    ]
    if data.get("scale_down"):
        lines += [f"HPA scale-down: {scale_down_summary(data['scale_down'])}.", ""]
    if data.get("timing"):
        lines += [*timing_lines(data["timing"]), ""]
    lines += [f"![{p.stem}]({p.name})" for p in images]
    report = results_dir / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return report
