"""`fab experiment`'s sequence with real siege on the lab's node1 (against the GourmetGram
stand-in app there) and the kubernetes client against tests/kube_standin/, the API
STAND-IN (no kube-apiserver runs here): checks the order of scenarios, the samples taken
during each, the HPA scaling up under the load and back down after its stabilisation window,
and the report written at the end. The replica and CPU numbers come from the stand-in's
model (CPU per siege user while siege runs), not from a cluster."""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client

from gourmetops.app.kube import Kube
from gourmetops.context import connect
from gourmetops.load import loadtest
from gourmetops.load.experiment import Plan, describe, run
from gourmetops.targets import lab_target
from tests.kube_standin import ModelClock, serve
from tests.kube_standin.experiment import objects_for
from tests.labtools import Lab

CPU_PER_USER = 300.0  # millicores the stand-in's pods carry per concurrent siege user
LOAD_SECONDS = 60.0  # modelled length of each load run: four HPA syncs under the load


def test_experiment_runs_every_scenario_and_reports(standin_app: Lab, tmp_path):
    """Each load run is real siege for 2 s of wall time on node1, sampled meanwhile, and
    LOAD_SECONDS of modelled load: the pods carry CPU_PER_USER millicores per siege user and
    modelled time moves on by LOAD_SECONDS before siege starts, so the samples taken during
    siege see what the HPA made of that load (the stand-in app on node1 serves the real
    requests; the stand-in API cannot see them). The waits sleep modelled seconds."""
    server, cluster = serve()

    def modelled_load(conn: Any, load: loadtest.LoadRun, *args: Any, **kwargs: Any):
        cluster.load_m = load.concurrency * CPU_PER_USER
        cluster.advance(LOAD_SECONDS)
        try:
            return loadtest.run(conn, load, *args, **kwargs)
        finally:
            cluster.load_m = 0.0

    config = client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    kube = Kube.from_api_client(client.ApiClient(config), ModelClock(cluster))
    plan = Plan(
        url="http://10.254.1.11:8000/test",
        concurrency=2,
        duration=2,  # wall seconds of real siege
        pause=30,  # the rest in modelled seconds, as a real run's
        sample_every=0.5,  # (during siege: wall seconds)
        rollout_timeout=120,
        scale_down_timeout=360,
    )
    said: list[str] = []
    try:
        report = run(
            kube,
            connect(lab_target(), "node1"),
            objects_for,
            plan,
            tmp_path / "run",
            echo=said.append,
            siege=modelled_load,
        )
    finally:
        server.shutdown()
    assert cluster.invalid == [], cluster.invalid  # every answer matched the v1.30 schema
    # One plan: the real run acted exactly the steps the dry run prints, in that order.
    dry = describe(plan, objects_for, "node1")
    acted = [x.removeprefix("==> step: ") for x in said if x.startswith("==> step: ")]
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
