"""`fab experiment`'s sequence with real siege on the lab's node1 (against the GourmetGram
stand-in app there) and the kubernetes client against tests/kube_standin.py, the API
STAND-IN (no kube-apiserver runs here): checks the order of scenarios, the samples taken
during each, the bounded scale-down watch and the report written at the end. The replica
and CPU numbers come from the stand-in, not from a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client

from gourmetops.experiment import Plan, run
from gourmetops.kube import Kube
from gourmetops.manifests import AppParams, render
from gourmetops.remote import connect
from tests.kube_standin import serve
from tests.labtools import Lab

APP = Path(__file__).parent / "fixtures" / "app" / "app.py"


@pytest.fixture
def node1_app(lab: Lab):
    lab.put("node1", APP, "/tmp/gourmetgram-standin.py")
    lab.ssh(
        "node1",
        "PORT=8000 setsid nohup python3 /tmp/gourmetgram-standin.py </dev/null >/dev/null 2>&1 & "
        "echo $! > /tmp/gourmetgram-standin.pid",
    )
    lab.ssh(
        "node1", "for i in $(seq 50); do ss -ltn | grep -q :8000 && exit 0; sleep 0.1; done; exit 1"
    )
    yield lab
    lab.ssh("node1", "kill $(cat /tmp/gourmetgram-standin.pid)", check=False)


def test_experiment_runs_every_scenario_and_reports(node1_app: Lab, tmp_path):
    server, _cluster = serve()
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    kube = Kube.from_api_client(client.ApiClient(config))
    plan = Plan(
        url="http://10.254.1.11:8000/test",
        concurrency=2,
        duration=2,
        pause=0.5,
        sample_every=0.5,
        rollout_timeout=20,
        scale_down_timeout=5,
    )
    lines: list[str] = []
    try:
        report = run(
            kube,
            connect(node1_app.target, "node1"),
            lambda **kw: render(AppParams(external_ips=("10.254.0.2",), **kw)),
            plan,
            tmp_path / "run",
            lines.append,
        )
    finally:
        server.shutdown()
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
    assert data["scale_down"]["reached"] is True
    text = report.read_text()
    assert text.count("\n| autoscaling") == 2 and "| 6 replicas |" in text
    assert (tmp_path / "run" / "replicas_cpu.png").stat().st_size > 10_000
