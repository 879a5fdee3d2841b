"""The stand-in's time model on its own (tests/kube_standin stands in for the API server and
its controllers, which cannot run here): metrics-server's 15 s scrapes, readiness from the
Deployment's readinessProbe, and the HPA's 15 s syncs, start-up handling, scale-up policy
and 300 s scale-down window, under steady load from t=0 and then none. Modelled seconds
only: the test moves the clock with `advance()`."""

from __future__ import annotations

from typing import Any

from gourmetops.app.manifests import AppParams, render
from tests.kube_standin import Cluster
from tests.kube_standin.hpa import SYNC_PERIOD

NS, DEP = "kube-gourmetgram", "gourmetgram-kube-app"


def record(cluster: Cluster, seconds: int) -> list[dict[str, Any]]:
    """One observation a modelled second: replicas, ready pods, PodMetrics count."""
    seen = []
    for _ in range(seconds):
        cluster.advance(1)
        pods = cluster.pods.get(f"{NS}/{DEP}", [])
        seen.append(
            {
                "t": cluster.now(),
                "replicas": cluster.objects[("deployments", NS, DEP)]["spec"]["replicas"],
                "ready": {p["name"]: cluster.pod_ready(p) for p in pods if not p["deleting"]},
                "born": {p["name"]: p["born"] for p in pods},
                "metrics": len(cluster.pod_metrics(NS)),
            }
        )
    return seen


def test_timeline_under_load_then_quiet():
    cluster = Cluster()
    objs = render(AppParams(external_ips=("10.254.0.2",)))
    for res, key in (("deployments", "deployment"), ("horizontalpodautoscalers", "hpa")):
        body = objs[key]
        cluster.apply(res, NS, body["metadata"]["name"], body, "gourmetops", False, True)
    cluster.load_m = 1200  # siege's demand from t=0: 4x the 300m request of one pod
    first_sync = cluster.hpa_first_sync
    seen = record(cluster, 240)

    # metrics-server: no PodMetrics before a pod's first usable pair of points (10-25 s
    # after its container starts, pod.go's fresh-container rule included).
    first_metrics = next(s["t"] for s in seen if s["metrics"])
    assert 10 <= first_metrics <= 30
    # readiness: initialDelaySeconds 5, periodSeconds 5, successThreshold 3 from the
    # probe worker's start: Ready 15-20 s after the pod is created.
    for name, born in seen[-1]["born"].items():
        became = next(s["t"] for s in seen if s["ready"].get(name))
        assert 15 <= became - born <= 20, name
    # The HPA acts at its syncs only: 1 -> 2 (below-minimum, no metrics needed) at the
    # first sync, then up on CPU only once a Ready pod's sample is a window old.
    changes = [
        (b["t"], b["replicas"])
        for a, b in zip(seen[:-1], seen[1:], strict=True)
        if a["replicas"] != b["replicas"]
    ]
    sync0, to = changes[0]
    assert to == 2 and sync0 <= first_sync + 1  # seen by the controller a step after apply
    for t, _ in changes:
        assert (t - sync0) % SYNC_PERIOD == 0
    up_at, up_to = changes[1]
    assert up_at > first_metrics and up_to <= 2 + 4  # default policy: max(4 pods, 100%)
    assert max(r for _, r in changes) == 6  # maxReplicas

    cluster.load_m = 0
    quiet = cluster.now()
    after = record(cluster, 420)
    peak = after[0]["replicas"]
    down_at = next(s["t"] for s in after if s["replicas"] < peak)
    # held by the 300 s window of recommendations (the last under load <= a scrape and a
    # sync after the load stopped), then straight to the minimum (scale-down policy 100%)
    assert 300 - SYNC_PERIOD <= down_at - quiet <= 300 + 2 * SYNC_PERIOD
    assert all(s["replicas"] == peak for s in after if s["t"] < down_at)
    assert after[-1]["replicas"] == 2
