"""`fab experiment`'s default plan (Plan with only a URL: 10 users, 30 s load tests, the pause
and the scale-down watch derived from the cluster's defaults) run against the API STAND-IN's
time model (tests/kube_standin: metrics-server's 15 s scrapes, readiness from the probe, the
HPA's 15 s sync, its 300 s stabilisation), on the model's simulated clock: no verdict depends
on the machine's speed, and the 6-minute experiment takes seconds.

Stood in: the cluster (no kube-apiserver can run here), siege (tests/kube_standin/siege.py
offers the load on the model's clock; real siege runs in tests/test_experiment.py on the
lab) and node1, where nothing runs (tests/kube_standin/experiment.py). What is real: the
experiment's steps, its waits, the kubernetes client, experiment.json, the timing judgement,
the report and its timeline figure."""

from __future__ import annotations

from gourmetops.load import experiment
from gourmetops.load.experiment import Plan
from gourmetops.load.timing import Timing
from tests.kube_standin.experiment import objects_for, run_default_plan


def test_default_plan_waits_are_derived_from_the_clusters_defaults():
    timing = Timing.from_objects(objects_for(replicas=1))
    # probe: initialDelaySeconds 5, periodSeconds 5, successThreshold 3 -> Ready within 20 s
    assert timing.readiness == 20
    assert (timing.scale_up_within, timing.scale_down_within) == (70, 345)
    assert Plan(url="http://127.0.0.1/test").waits(timing) == (40, 355)
    said = experiment.describe(Plan(url="http://127.0.0.1/test"), objects_for, "node1")
    assert any("4. pause 40s (until a scale-up is ready)" in line for line in said)
    assert any("for at most 355s" in line for line in said)
    # given on the command line, they are used as given
    assert Plan(url="http://127.0.0.1/test", pause=7, scale_down_timeout=9).waits(timing) == (7, 9)


def test_default_plan_on_the_model_scales_up_and_back_down_in_the_expected_times(tmp_path):
    data, said = run_default_plan(tmp_path / "run")
    names = [s["name"] for s in data["scenarios"]]
    assert names[2:] == [
        "autoscaling (2-6, CPU 50%), first run",
        "autoscaling (2-6, CPU 50%), second run",
    ]
    timing = data["timing"]
    up, down = timing["first_scale_up"], timing["back_to_minimum"]
    assert up["verdict"] == "as expected", up
    assert 0 < up["observed"] <= up["expected_within"] == 70
    assert down["verdict"] == "as expected", down
    assert down["expected_from"] <= down["observed"] <= down["expected_within"] == 345
    assert data["scale_down"]["outcome"] == "scaled_down" and data["scale_down"]["peak"] > 2
    # the pause was sampled until the first run's scale-up was ready: the second run met it
    assert data["pause"]["samples"][-1]["replicas"] > 2
    assert min(x["replicas"] for x in data["scenarios"][3]["samples"]) > 2
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| first scale-up (from the first autoscaling load test's start) | within 70 s |" in (
        report
    )
    assert "| back to the minimum (from the last load test's end) | 285-345 s |" in report
    assert any(line.startswith("    | first scale-up") for line in said)
    assert "![timeline](timeline.png)" in report
    assert (tmp_path / "run" / "timeline.png").stat().st_size > 10_000


def test_metrics_that_never_arrive_make_the_timing_inconclusive_not_a_verdict(tmp_path):
    data, _ = run_default_plan(tmp_path / "run", metrics="starting")
    up = data["timing"]["first_scale_up"]
    assert (up["verdict"], up["observed"]) == ("inconclusive", None)
    assert "no pod metrics were read" in up["why"]
    assert data["timing"]["back_to_minimum"]["verdict"] == "inconclusive"
