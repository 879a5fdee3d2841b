"""The API stand-in's deployment controller rolling out as v1.30's RollingUpdate does
(tests/kube_standin/rollout.py: maxSurge/maxUnavailable steps as pods turn Ready, scaling
events, ScalingReplicaSet events), and our rollout wait (gourmetops/app/waits.py) ending when
it is done. Still a STAND-IN: see tests/kube_standin/__init__.py.

Time is the stand-in's modelled time only: the waits sleep on its ModelClock and every
controller round is watched at its modelled second; no assertion reads the wall clock."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from gourmetops.app import stage as app_stage
from gourmetops.app import waits
from gourmetops.app.kube import Kube
from gourmetops.app.manifests import AppParams, render
from tests.kube_standin import Cluster, ModelClock, serve
from tests.kube_standin.rollout import fenceposts

NS, DEP = "kube-gourmetgram", "gourmetgram-kube-app"
KEY = f"{NS}/{DEP}"
V2 = "node1:5000/gourmetgram-app:v2"


@pytest.fixture
def api():
    server, cluster = serve()  # pods Ready about 20 s after creation: the manifest's probe
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    yield Kube.from_api_client(client.ApiClient(config), ModelClock(cluster)), cluster
    server.shutdown()
    assert cluster.validated and cluster.invalid == []  # every answer matched the schema


def objects(**changes: Any) -> dict[str, Any]:
    return render(AppParams(external_ips=("10.254.0.2",), **changes))


def quiet(_line: str) -> None:
    pass


def watch(cluster: Cluster) -> list[dict[str, Any]]:
    """After every controller round: the modelled second, the Deployment's pods not
    terminating (what maxSurge bounds: its ReplicaSets' pods), the available ones, and
    the Deployment's status as stored."""
    seen: list[dict[str, Any]] = []
    run = cluster.reconcile

    def reconcile() -> None:
        run()
        pods = cluster.pods.get(KEY, [])
        dep = cluster.objects.get(("deployments", NS, DEP))
        seen.append(
            {
                "t": cluster.now(),
                "pods": sum(1 for p in pods if not p["deleting"]),
                "available": sum(1 for p in pods if cluster.serving(p)),
                "status": dict((dep or {}).get("status") or {}),
            }
        )

    cluster.reconcile = reconcile  # type: ignore[method-assign]
    return seen


def scaling(cluster: Cluster) -> list[str]:
    return [e["message"] for e in cluster.events if e["reason"] == "ScalingReplicaSet"]


def sizes(cluster: Cluster) -> dict[str, int]:
    return {name: rs.replicas for name, rs in cluster.replica_sets[KEY].items()}


def test_default_rolling_update_steps_within_surge_and_unavailable(api):
    """4 replicas, maxSurge and maxUnavailable 25% (1 and 1): at every modelled second at
    most 5 pods and at least 3 available; the new ReplicaSet grows as its pods turn Ready
    and the old one shrinks, each step a ScalingReplicaSet event in v1.30's words."""
    kube, cluster = api
    app_stage.rollout(kube, objects(replicas=4), 120, False, quiet)
    old = next(iter(cluster.replica_sets[KEY]))
    seen = watch(cluster)
    echo: list[str] = []
    app_stage.rollout(kube, objects(replicas=4, image=V2), 300, False, echo.append)
    new = [n for n in cluster.replica_sets[KEY] if n != old][0]

    assert max(s["pods"] for s in seen) == 5  # 4 + maxSurge, reached
    assert min(s["available"] for s in seen) == 3  # 4 - maxUnavailable, reached
    assert sizes(cluster) == {old: 0, new: 4}
    pods = cluster.pods[KEY]
    assert sorted(p["rs"] for p in pods if not p["deleting"]) == [new] * 4
    assert all(cluster.pod_ready(p) for p in pods if not p["deleting"])
    assert scaling(cluster) == [
        f"Scaled up replica set {old} to 4",
        f"Scaled up replica set {new} to 1",
        f"Scaled down replica set {old} to 3 from 4",
        f"Scaled up replica set {new} to 2 from 1",
        f"Scaled down replica set {old} to 1 from 3",
        f"Scaled up replica set {new} to 4 from 2",
        f"Scaled down replica set {old} to 0 from 1",
    ]
    # the wait ended at the end of the rollout, not before: its last line says 4/4, 4 updated
    assert [line for line in echo if line.startswith(f"  {DEP}:")][-1].endswith(
        "4/4 ready, 4 updated"
    )
    status = kube.live(objects()["deployment"])["status"]
    assert (status["replicas"], status["updatedReplicas"], status["availableReplicas"]) == (4,) * 3
    assert "unavailableReplicas" not in status
    assert (
        kube.live(objects()["deployment"])["metadata"]["annotations"][
            "deployment.kubernetes.io/revision"
        ]
        == "2"
    )


def test_status_stays_consistent_during_the_rollout(api):
    """sync.go calculateStatus at every round: replicas = the pods not terminating,
    updatedReplicas = the new ReplicaSet's, ready = available, unavailableReplicas = the
    ReplicaSets' sizes summed - available; the Available condition holds throughout."""
    kube, cluster = api
    app_stage.rollout(kube, objects(replicas=4), 120, False, quiet)
    seen = watch(cluster)
    app_stage.rollout(kube, objects(replicas=4, image=V2), 300, False, quiet)
    # from the controller's first sync of the change (before it, the old status: its lag)
    seen = [s for s in seen if s["status"].get("observedGeneration") == 2]
    updated = [s["status"].get("updatedReplicas", 0) for s in seen]
    assert updated == sorted(updated) and updated[-1] == 4  # the new pods only ever grow
    for s in seen:
        st = s["status"]
        assert st["replicas"] == s["pods"] <= 5
        assert st.get("readyReplicas", 0) == st.get("availableReplicas", 0) == s["available"]
        assert st["availableReplicas"] >= 3
        assert st.get("unavailableReplicas", 0) == max(st["replicas"] - s["available"], 0)
        available = {c["type"]: c["status"] for c in st["conditions"]}["Available"]
        assert available == "True"


def test_max_surge_0_max_unavailable_1_replaces_one_pod_at_a_time(api):
    """maxSurge 0: never a fifth pod; maxUnavailable 1: an old pod goes first, then a new
    one comes; the new ReplicaSet is created at 0 (no event for it: getNewReplicaSet)."""
    kube, cluster = api
    app_stage.rollout(kube, objects(replicas=4), 120, False, quiet)
    old = next(iter(cluster.replica_sets[KEY]))
    seen = watch(cluster)
    deployment = objects(replicas=4, image=V2)["deployment"]
    deployment["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
    }
    kube.apply(deployment)
    assert waits.wait_rollout(kube, DEP, NS, 600, quiet) == 4
    new = [n for n in cluster.replica_sets[KEY] if n != old][0]

    assert max(s["pods"] for s in seen) == 4
    assert min(s["available"] for s in seen) == 3
    assert sizes(cluster) == {old: 0, new: 4}
    assert scaling(cluster)[1:] == [
        f"Scaled down replica set {old} to 3 from 4",
        f"Scaled up replica set {new} to 1 from 0",
        f"Scaled down replica set {old} to 2 from 3",
        f"Scaled up replica set {new} to 2 from 1",
        f"Scaled down replica set {old} to 1 from 2",
        f"Scaled up replica set {new} to 3 from 2",
        f"Scaled down replica set {old} to 0 from 1",
        f"Scaled up replica set {new} to 4 from 3",
    ]


def test_a_replicas_only_change_scales_the_replica_set_directly(api):
    """sync.go scale: the same template, so no new ReplicaSet and no revision; one event."""
    kube, cluster = api
    app_stage.rollout(kube, objects(replicas=4), 120, False, quiet)
    (rs,) = cluster.replica_sets[KEY]
    seen = watch(cluster)
    app_stage.rollout(kube, objects(replicas=6), 120, False, quiet)
    assert sizes(cluster) == {rs: 6}
    assert scaling(cluster) == [
        f"Scaled up replica set {rs} to 4",
        f"Scaled up replica set {rs} to 6 from 4",
    ]
    assert max(s["pods"] for s in seen) == 6  # all at once: no surge bound on a scale
    app_stage.rollout(kube, objects(replicas=2), 120, False, quiet)
    assert scaling(cluster)[-1] == f"Scaled down replica set {rs} to 2 from 6"
    live = kube.live(objects()["deployment"])
    assert live["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    # served as kube-controller-manager's recorder writes them, on the Deployment
    events = kube.core.list_namespaced_event(NS, field_selector=f"involvedObject.name={DEP}")
    assert [(e.type, e.reason, e.source.component) for e in events.items] == [
        ("Normal", "ScalingReplicaSet", "deployment-controller")
    ] * 3
    assert {e.involved_object.kind for e in events.items} == {"Deployment"}


def test_scaling_mid_rollout_is_proportional(api):
    """Kubernetes' documented example (concepts/workloads/controllers/deployment,
    "Proportional scaling"): 10 replicas, maxSurge 3, maxUnavailable 2, an image that never
    pulls: the rollout stops at 8 old and 5 new; scaled to 15, the 5 more are shared 3 to
    the old ReplicaSet and 2 to the new one (sync.go scale, GetProportion)."""
    kube, cluster = api
    small = {"cpu": "0.1", "memory": "100Mi"}
    params = {"replicas": 10, "requests": small}
    app_stage.rollout(kube, objects(**params), 120, False, quiet)
    old = next(iter(cluster.replica_sets[KEY]))
    deployment = objects(**params, image="node1:5000/unpullable:latest")["deployment"]
    deployment["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2},
    }
    kube.apply(deployment)
    cluster.advance(60)
    new = [n for n in cluster.replica_sets[KEY] if n != old][0]
    assert sizes(cluster) == {old: 8, new: 5}
    cluster.scale(NS, DEP, 15, "kube-controller-manager")
    cluster.advance(60)
    assert sizes(cluster) == {old: 11, new: 7}
    assert scaling(cluster)[-2:] == [
        f"Scaled up replica set {old} to 11 from 8",
        f"Scaled up replica set {new} to 7 from 5",
    ]


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [
        (4, "25%", "25%", (1, 1)),
        (10, "25%", "25%", (3, 2)),  # surge rounds up, unavailable down
        (1, "25%", "25%", (1, 0)),
        (2, "0%", "25%", (0, 1)),  # both 0: unavailable 1 (ResolveFenceposts)
        (5, 2, 0, (2, 0)),
    ],
)
def test_fenceposts(replicas, surge, unavailable, expected):
    rolling = {"maxSurge": surge, "maxUnavailable": unavailable}
    dep = {"spec": {"replicas": replicas, "strategy": {"type": "RollingUpdate"}}}
    dep["spec"]["strategy"]["rollingUpdate"] = rolling
    assert fenceposts(dep) == expected
