"""`fab experiment`'s sequence with real siege on the lab's node1 (against the GourmetGram
stand-in app there) and the kubernetes client against tests/kube_standin.py, the API
STAND-IN (no kube-apiserver runs here): checks the order of scenarios, the samples taken
during each, the bounded scale-down watch and the report written at the end. The replica
and CPU numbers come from the stand-in, not from a cluster."""

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
    report = Path(proc.stdout.strip().splitlines()[-1].removeprefix("report: "))
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
    # The stand-in's HPA holds replicas at its minimum (no CPU drives it up), so the watch
    # must not call that a scale-down.
    down = data["scale_down"]
    assert (down["outcome"], down["reached"], down["peak"]) == ("no_scale_up", False, 2)
    text = report.read_text()
    assert "HPA scale-down: no scale-up observed" in text
    assert text.count("\n| autoscaling") == 2 and "| 6 replicas |" in text
    for png in ("replicas_cpu.png", "response_time.png", "scale_down.png"):
        assert (tmp_path / "run" / png).stat().st_size > 10_000, png
