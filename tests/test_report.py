"""The experiment report rendered from a saved results directory (tests/fixtures/results:
made-up numbers of the right shape; no cluster runs here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gourmetops.load.report import ReportError, load, peaks, render
from tests.cli import fab

SAMPLE = Path(__file__).parent / "fixtures" / "results" / "experiment-sample"
PNGS = ("replicas_cpu.png", "response_time.png", "scale_down.png", "throughput_failures.png")


def test_report_has_the_four_scenarios_side_by_side_and_plots(tmp_path):
    results = tmp_path / "run"
    shutil.copytree(SAMPLE, results)
    report = render(results).read_text()
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| scenario | transactions | trans/s | mean response (s) | failed")
    assert [row.split(" | ")[0] for row in rows[1:]] == [
        "| 1 replica",
        "| 6 replicas",
        "| autoscaling (2-6, CPU 50%), first run",
        "| autoscaling (2-6, CPU 50%), second run",
    ]
    assert "| 6 replicas | 2310 | 77.26 | 0.13 | 0 | 100.00 | 6 | 340 |" in report
    assert "HPA scale-down: scaled down: from a peak of 6 replicas back to 2 within 330s" in report
    for png in PNGS:
        data = (results / png).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
        assert f"]({png})" in report


def test_report_says_when_no_scale_up_was_seen(tmp_path):
    results = tmp_path / "run"
    shutil.copytree(SAMPLE, results)
    data = json.loads((results / "experiment.json").read_text())
    flat = [{"t": float(t), "replicas": 2, "pods": None} for t in range(0, 40, 10)]
    data["scale_down"] = {
        "outcome": "no_scale_up",
        "reached": False,
        "scaled_up": False,
        "peak": 2,
        "min": 2,
        "seconds": 30.0,
        "samples": flat,
    }
    (results / "experiment.json").write_text(json.dumps(data))
    report = render(results).read_text()
    assert "HPA scale-down: no scale-up observed: replicas never rose above the minimum of 2" in (
        report
    )
    assert "scaled down:" not in report


def test_peaks_read_replicas_and_cpu_quantities():
    samples = [
        {"t": 5, "replicas": 2, "pods": {"a": {"cpu": "250m", "memory": "1Mi"}}},
        {"t": 10, "replicas": 4, "pods": {"a": {"cpu": "0.6", "memory": "1Mi"}}},
        {"t": 15, "replicas": 3, "pods": None},
    ]
    assert peaks(samples) == (4, 600.0)


def test_fab_report_names_a_bad_results_dir(tmp_path):
    result = fab("report", str(tmp_path))
    assert (result.code, result.out.strip()) == (
        1,
        f"error: {tmp_path}/experiment.json: No such file or directory",
    )
    (tmp_path / "experiment.json").write_text('{"scenarios": [{"name": "x"}]}')
    try:
        load(tmp_path)
    except ReportError as exc:
        assert str(exc).splitlines() == [
            f"{tmp_path}/experiment.json: scenario 'x' result is missing",
            f"{tmp_path}/experiment.json: scenario 'x' samples is missing",
        ]
    else:
        raise AssertionError("a scenario without a result was accepted")


def test_a_corrupt_results_file_leaves_the_report_as_it_was(reported):
    """A partial or hand-edited experiment.json: every problem named, and the report and
    plots already there untouched (checked before anything is drawn). `reported`: the
    sample results as `fab report` left them (conftest)."""
    results = reported
    made = {p.name: p.read_bytes() for p in results.iterdir() if p.name != "experiment.json"}
    assert set(made) == {"report.md", *PNGS}
    data = json.loads((results / "experiment.json").read_text())
    data["scenarios"][1]["samples"][0]["pods"] = {"p": {"cpu": "lots", "memory": "1Mi"}}
    del data["scenarios"][2]["result"]["availability"]
    (results / "experiment.json").write_text(json.dumps(data))
    result = fab("report", str(results))
    path = results / "experiment.json"
    assert (result.code, result.out.strip().splitlines()) == (
        1,
        [
            f"error: {path}: scenario '6 replicas' samples[0].pods.p.cpu: 'lots' is not a CPU "
            "quantity (e.g. '250m')",
            f"{path}: scenario 'autoscaling (2-6, CPU 50%), first run' result.availability "
            "is missing",
        ],
    )
    assert {p.name: p.read_bytes() for p in results.iterdir() if p.name in made} == made
    assert sorted(p.name for p in results.iterdir()) == sorted([*made, "experiment.json"])
    (results / "experiment.json").write_text('{"scenarios": [')
    result = fab("report", str(results))
    assert result.code == 1 and result.out.startswith(f"error: {path}: not valid JSON")
    assert {p.name: p.read_bytes() for p in results.iterdir() if p.name in made} == made
