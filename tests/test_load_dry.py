"""`fab loadtest --dry` and `fab experiment --dry` against the lab: they print what would
run and start nothing on node1 (no siege, no install) and write no result file."""

from __future__ import annotations

from gourmetops import STATE_DIR
from gourmetops.load.loadtest import PID_FILE, LoadRun
from tests.labtools import Lab

URL = "http://10.254.1.11:8000/test"
RESULTS = STATE_DIR / "lab" / "results"
# What a load run leaves on node1: a siege process, the PID file it records, apt's history
# (an install), siege's package state.
NODE1_STATE = (
    f"printf 'running=%s\\n' \"$(pgrep -x siege)\"; stat -c %Y {PID_FILE} 2>&1; "
    "stat -c %Y /var/log/apt/history.log 2>&1; dpkg-query -W siege 2>&1"
)


def results() -> list[str]:
    return sorted(p.name for p in RESULTS.iterdir()) if RESULTS.exists() else []


def test_dry_loadtest_prints_the_run_and_starts_nothing(lab: Lab):
    before, files = lab.ssh("node1", NODE1_STATE, check=False).stdout, results()
    result = lab.fab("loadtest", "--url", URL, "--concurrency", "4", "--duration", "2m", "--dry")
    assert result.returncode == 0, result.stdout[-3000:]
    out = result.stdout
    assert f"would run siege on node1: 4 concurrent users for 120s against {URL}" in out
    assert f"command on node1: {LoadRun(URL, 4, 120).command()}\n" in out
    assert "siege installed on node1 if missing" in out
    assert "transactions" not in out and "saved:" not in out
    after = lab.ssh("node1", NODE1_STATE, check=False).stdout
    # (the PID file's mtime may follow: a siege of an earlier test on these nodes left it)
    assert after.startswith("running=\n"), f"siege runs on node1: {after}"
    assert after == before and results() == files


def test_dry_experiment_prints_the_plan_and_starts_nothing(lab: Lab):
    """The lab runs no Kubernetes: the plan is printed and the run refused, as a real one
    would be, before anything is sent."""
    before, files = lab.ssh("node1", NODE1_STATE, check=False).stdout, results()
    result = lab.fab(
        "experiment", "--url", URL, "--concurrency", "3", "--duration", "20s", "--pause", "7",
        "--scale-down-timeout", "90", "--dry",
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 1, out[-3000:]
    steps = [
        "timing from the cluster's defaults (metrics every 15s, HPA sync every 15s",
        "1. Deployment kube-gourmetgram/gourmetgram-kube-app at 1 replica",
        "load test '1 replica': siege on node1, 3 concurrent users for 20s against " + URL,
        "2. scaled to 6 replicas",
        "3. back to 1 replica with HPA gourmetgram-kube-hpa (min 2, max 6, CPU 50%)",
        "load test 'autoscaling (2-6, CPU 50%), first run'",
        "4. pause 7s, replicas sampled every 5s; load test 'autoscaling (2-6, CPU 50%), "
        "second run'",
        "5. watch the HPA scale back to 2, a sample every 5s for at most 90s",
        f"each siege run on node1: {LoadRun(URL, 3, 20).command()}",
        "lab runs no Kubernetes: nothing to experiment on (a real run stops here",
    ]
    positions = [out.index(step) for step in steps]  # ValueError names a missing step
    assert positions == sorted(positions)
    assert "==> scenario" not in out
    assert lab.ssh("node1", NODE1_STATE, check=False).stdout == before and results() == files
