"""`fab experiment`'s sequence with real siege on the lab's node1 (against the GourmetGram
stand-in app there) and the kubernetes client against tests/kube_standin/, the API
STAND-IN (no kube-apiserver runs here): checks the order of scenarios, the samples taken
during each, the HPA scaling up under the load and back down after its stabilisation window,
and the report written at the end. The replica and CPU numbers come from the stand-in's
model (CPU per siege user while siege runs), not from a cluster."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gourmetops import PROJECT_ROOT
from tests.labtools import Lab

RUNNER = Path(__file__).parent / "experiment_standin_run.py"


def test_experiment_runs_every_scenario_and_reports(standin_app: Lab, tmp_path):
    """Run in a process of its own (see tests/experiment_standin_run.py for why)."""
    proc = subprocess.run(
        [sys.executable, str(RUNNER), str(tmp_path / "run")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    report = Path(lines[-1].removeprefix("report: "))
    # One plan: the real run acted exactly the steps the dry run prints, in that order.
    dry = json.loads(next(x for x in lines if x.startswith("dry run: ")).removeprefix("dry run: "))
    acted = [x.removeprefix("==> step: ") for x in lines if x.startswith("==> step: ")]
    assert acted == dry[:-1] and len(acted) == 8
    assert dry[-1].startswith("each siege run on node1: ")
    data = json.loads((tmp_path / "run" / "experiment.json").read_text())
    names = [s["name"] for s in data["scenarios"]]
    assert names == [
        "1 replica",
        "6 replicas",
        "autoscaling (2-6, CPU 50%), first run",
        "autoscaling (2-6, CPU 50%), second run",
    ]
    for scenario in data["scenarios"]:
        assert scenario["result"]["transactions"] > 0, scenario["name"]
        assert scenario["result"]["failed_transactions"] == 0, scenario["name"]
        assert scenario["samples"], scenario["name"]
    peak = {s["name"]: max(x["replicas"] for x in s["samples"]) for s in data["scenarios"]}
    assert peak["1 replica"] == 1 and peak["6 replicas"] == 6
    # Under load the HPA scales above its minimum of 2; after the 300 s window (modelled
    # time, see the runner) it comes back down, and the watch says so.
    auto = [s for s in data["scenarios"] if s["name"].startswith("autoscaling")]
    assert max(x["replicas"] for s in auto for x in s["samples"]) > 2
    down = data["scale_down"]
    assert (down["outcome"], down["reached"]) == ("scaled_down", True)
    assert down["peak"] > 2 and down["samples"][-1]["replicas"] == 2
    text = report.read_text()
    assert "HPA scale-down: scaled down: from a peak of" in text
    assert text.count("\n| autoscaling") == 2 and "| 6 replicas |" in text
    # what the plots are drawn against, read from the objects the experiment applied
    app = data["app"]
    assert (app["hpa_min"], app["hpa_max"], app["hpa_cpu_percent"]) == (2, 6, 50)
    assert app["scale_down_window"] == 300 and app["cpu_limit"] and app["cpu_request"]
    pngs = ("replicas_cpu.png", "response_time.png", "scale_down.png", "throughput_failures.png")
    for png in pngs:
        assert (tmp_path / "run" / png).stat().st_size > 10_000, png
