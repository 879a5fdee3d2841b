"""The API stand-in (tests/kube_standin) behaving like a v1.30 API server where gourmetops
reads or writes, and the project code that depends on it: canonical quantities, metrics-server
units, HPA status and its scale-up / stabilised scale-down, server-side apply conflicts,
Deployment conditions, events. Every answer is checked against the v1.30 OpenAPI schema
(the fixture's last assertion). Still a STAND-IN: see tests/kube_standin/__init__.py.

Time is the stand-in's modelled time only: our waits sleep on its ModelClock, the tests
move it with `advance()`, and no assertion reads the wall clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from gourmetops.app import stage as app_stage
from gourmetops.app.kube import (
    APPLY,
    METRICS_NOT_READY,
    Kube,
    KubeError,
    diff,
    hpa_line,
    pod_events,
    pod_lines,
    pod_metrics,
)
from gourmetops.app.manifests import AppParams, render
from gourmetops.load.scale_down_watch import ScaleDownWatch
from gourmetops.waiting import poll
from tests.kube_standin import ModelClock, serve
from tests.kube_standin.admission import canonical
from tests.kube_standin.cluster import micro, stamp

NS, DEP, HPA = "kube-gourmetgram", "gourmetgram-kube-app", "gourmetgram-kube-hpa"


@pytest.fixture
def standin():
    """start() -> (Kube, Cluster), the Kube waiting on the cluster's modelled clock; every
    server stopped and schema-checked at the end."""
    started = []

    def start():
        server, cluster = serve()
        started.append((server, cluster))
        config = client.Configuration()
        config.host = f"http://127.0.0.1:{server.server_address[1]}"
        return Kube.from_api_client(client.ApiClient(config), ModelClock(cluster)), cluster

    yield start
    for server, cluster in started:
        server.shutdown()
        assert cluster.validated and cluster.invalid == []


def objects(**changes):
    return render(AppParams(external_ips=("10.254.0.2",), **changes))


def quiet(_line: str) -> None:
    pass


T = TypeVar("T")


def until(kube: Kube, check: Callable[[], T], timeout: float = 600, every: float = 5) -> T:
    """check() until truthy, every `every` modelled seconds, at most `timeout` of them."""
    return poll(
        lambda: check() or None,
        timeout,
        every,
        lambda: AssertionError(f"not reached in {timeout:g} modelled seconds"),
        kube.clock,
    )


def test_quantities_are_canonicalised_as_the_api_server_does():
    assert [canonical(q) for q in ("0.5", "0.3", "1000m", "1.5", "0.1", "2")] == [
        "500m",
        "300m",
        "1",
        "1500m",
        "100m",
        "2",
    ]
    assert [canonical(q) for q in ("500Mi", "1.5Gi", "2048Ki", "512", "1e3", "0")] == [
        "500Mi",
        "1536Mi",
        "2Mi",
        "512",
        "1e3",
        "0",
    ]
    assert canonical("0.0000000001") == "1n"  # precision capped at nano, rounded up


def test_dry_rollout_compares_quantities_by_value(standin):
    kube, _ = standin()
    app_stage.rollout(kube, objects(), 60, False, quiet)
    live = kube.live(objects()["deployment"])
    resources = live["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {
        "limits": {"cpu": "500m", "memory": "500Mi"},
        "requests": {"cpu": "300m", "memory": "300Mi"},
    }
    assert diff(objects()["deployment"], live) == f"Deployment/{DEP}: no change"
    changed = diff(objects(limits={"cpu": "0.6", "memory": "500Mi"})["deployment"], live)
    assert "-            cpu: 500m\n+            cpu: '0.6'" in changed
    assert "300m" not in changed  # unchanged quantities stay out of the diff


def test_metrics_are_summed_over_containers_in_kubectl_top_units(standin):
    kube, cluster = standin()
    cluster.sidecar = True
    app_stage.rollout(kube, objects(replicas=2), 60, False, quiet)
    raw = kube.custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", NS, "pods")
    usage = [c["usage"] for c in raw["items"][0]["containers"]]
    assert usage == [
        {"cpu": "36874532n", "memory": "216064Ki"},
        {"cpu": "2467118n", "memory": "8192Ki"},
    ]
    # 39341650n rounds up to 40m; 224256Ki is 219Mi.
    assert list(pod_metrics(kube, NS).values()) == [{"cpu": "40m", "memory": "219Mi"}] * 2

    cluster.metrics = "absent"  # no metrics-server: 404, and no metrics.k8s.io group
    assert pod_metrics(kube, NS) is None
    groups = client.ApisApi(kube.core.api_client).get_api_versions().groups
    assert "metrics.k8s.io" not in [g.name for g in groups]
    lines: list[str] = []
    app_stage.status(kube, objects(), lines.append)
    assert METRICS_NOT_READY in lines


def test_a_fresh_hpa_has_no_current_replicas_and_status_copes(standin):
    kube, cluster = standin()  # no time passes after the HPA is applied: no sync yet
    app_stage.rollout(kube, objects(), 60, False, quiet)
    kube.apply(objects()["hpa"])
    answer = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(
        HPA, NS, _preload_content=False
    )
    raw = json.loads(answer.data)
    assert raw["status"] == {"desiredReplicas": 0}  # currentReplicas: omitempty
    assert raw["spec"]["behavior"]["scaleUp"]["policies"][0] == {
        "type": "Pods",
        "value": 4,
        "periodSeconds": 15,
    }
    line = hpa_line(kube, HPA, NS)
    assert line == (f"hpa/{HPA}: cpu <unknown>/50%, replicas 0 (min 2, max 6, desired 0)")


def test_hpa_scales_up_under_load_and_down_only_after_the_window(standin):
    kube, cluster = standin()
    app_stage.autoscale(kube, objects(), 120, False, quiet)
    dep = objects()["deployment"]
    assert kube.live(dep)["status"].get("readyReplicas") == 2
    watch = ScaleDownWatch(minimum=2, timeout=600)
    started = cluster.now()

    def sample() -> bool:
        live = kube.live(dep)
        return watch.observe(
            {"t": cluster.now() - started, "replicas": live["status"].get("readyReplicas")}
        )

    cluster.load_m = 1200  # siege's demand: 600m a pod at 2 pods, above the 500m limit
    until(kube, lambda: sample() or watch.peak == 6)
    hpa = kube.live(objects()["hpa"])["status"]
    assert hpa["currentMetrics"][0]["resource"]["current"]["averageUtilization"] > 50
    reasons = {c["type"]: c["reason"] for c in hpa["conditions"]}
    assert reasons["ScalingActive"] == "ValidMetricFound"
    assert reasons["ScalingLimited"] == "TooManyReplicas"

    cluster.load_m = 0
    load_stopped = cluster.now()
    until(kube, sample)
    # Not before the window: 300 s from the last sync that saw the load (<= 15 s before).
    assert cluster.now() - load_stopped >= 300 - 15
    assert watch.outcome() == "scaled_down" and watch.peak == 6
    last = kube.live(objects()["hpa"])["status"]
    # The sync that scaled down saw 6 (currentReplicas: as last seen); the next one sees 2.
    assert (last["currentReplicas"], last["desiredReplicas"]) == (6, 2)
    assert "lastScaleTime" in last
    cluster.advance(15)
    assert kube.live(objects()["hpa"])["status"]["currentReplicas"] == 2


def test_stabilised_scale_down_is_reported_while_the_window_lasts(standin):
    kube, cluster = standin()
    app_stage.autoscale(kube, objects(), 120, False, quiet)
    cluster.load_m = 1200
    until(kube, lambda: kube.live(objects()["deployment"])["spec"]["replicas"] == 6)
    cluster.load_m = 0
    cluster.advance(50)  # several syncs, all inside the 300 s window
    hpa = kube.live(objects()["hpa"])["status"]
    assert hpa["desiredReplicas"] == 6
    assert {c["type"]: c["reason"] for c in hpa["conditions"]}["AbleToScale"] == (
        "ScaleDownStabilized"
    )


def test_server_side_apply_conflicts_unless_forced_and_tracks_owners(standin):
    kube, cluster = standin()
    app_stage.rollout(kube, objects(), 60, False, quiet)
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": DEP, "namespace": NS},
        "spec": {"replicas": 3},
    }
    with pytest.raises(ApiException) as refused:
        kube.apps.patch_namespaced_deployment(
            DEP, NS, body, field_manager="kubectl", _content_type=APPLY
        )
    assert refused.value.status == 409
    assert json.loads(refused.value.body)["message"] == (
        'Apply failed with 1 conflict: conflict with "gourmetops": .spec.replicas'
    )
    generation = kube.live(objects()["deployment"])["metadata"]["generation"]
    kube.apply(objects()["deployment"])  # identical: no new generation
    assert kube.live(objects()["deployment"])["metadata"]["generation"] == generation

    kube.apps.patch_namespaced_deployment(
        DEP, NS, body, field_manager="kubectl", force=True, _content_type=APPLY
    )
    live = kube.live(objects()["deployment"])
    assert live["metadata"]["generation"] == generation + 1
    owners = {m["manager"]: m["fieldsV1"] for m in live["metadata"]["managedFields"]}
    assert owners["kubectl"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners["gourmetops"]["f:spec"]


def test_conflicts_are_worded_as_the_api_server_words_them(standin):
    """conflict.go (apimachinery managedfields/internal): an applier is named alone, an
    Update's manager with its subresource and apiVersion; several conflicts are grouped by
    manager, one `- path` line each, with one cause per field."""
    kube, cluster = standin()
    app_stage.autoscale(kube, objects(), 120, False, quiet)  # the HPA's scale writes
    labels = {"apiVersion": "apps/v1", "kind": "Deployment"}
    labels["metadata"] = {"name": DEP, "namespace": NS, "labels": {"tier": "web"}}
    kube.apps.patch_namespaced_deployment(
        DEP, NS, labels, field_manager="labeller", _content_type=APPLY
    )
    body = {**labels, "metadata": {**labels["metadata"], "labels": {"tier": "db"}}}
    body["spec"] = {"replicas": 3}
    with pytest.raises(ApiException) as refused:
        kube.apps.patch_namespaced_deployment(
            DEP, NS, body, field_manager="kubectl", _content_type=APPLY
        )
    answer = json.loads(refused.value.body)
    assert refused.value.status == 409 and answer["reason"] == "Conflict"
    assert answer["message"] == (
        "Apply failed with 2 conflicts: "
        'conflicts with "kube-controller-manager" with subresource "scale" using apps/v1:\n'
        "- .spec.replicas\n"
        'conflicts with "labeller":\n'
        "- .metadata.labels.tier"
    )
    assert sorted((c["field"], c["message"]) for c in answer["details"]["causes"]) == [
        (".metadata.labels.tier", 'conflict with "labeller"'),
        (
            ".spec.replicas",
            'conflict with "kube-controller-manager" with subresource "scale" using apps/v1',
        ),
    ]


def test_deployment_conditions_and_old_pods_terminating(standin):
    kube, cluster = standin()
    app_stage.rollout(kube, objects(), 60, False, quiet)
    live = kube.live(objects()["deployment"])["status"]
    assert {c["type"]: (c["status"], c["reason"]) for c in live["conditions"]} == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }
    assert live["observedGeneration"] == 1
    kube.apply(objects(image="node1:5000/gourmetgram-app:v2")["deployment"])
    selector = "app=gourmetgram-kube-app"

    def terminating():
        items = kube.core.list_namespaced_pod(NS, label_selector=selector).items
        return items if any(p.metadata.deletion_timestamp for p in items) else None

    pods = until(kube, terminating, every=1)  # the new pod is ready, the old one on its way out
    assert sorted(p.spec.containers[0].image.rsplit(":", 1)[1] for p in pods) == ["latest", "v2"]
    assert any(" Terminating ready" in line for line in pod_lines(kube, NS, selector))


def test_progress_deadline_and_failed_scheduling(standin):
    kube, cluster = standin()
    with pytest.raises(KubeError) as failed:  # the controller's verdict, not our timeout
        app_stage.rollout(kube, objects(image="node1:5000/unpullable:latest"), 900, False, quiet)
    assert 600 <= cluster.now() < 900  # progressDeadlineSeconds, then at most one poll
    assert 'gourmetgram-kube-app stuck: ReplicaSet "gourmetgram-kube-app-' in str(
        failed.value
    ) and '" has timed out progressing (0/1 ready)' in str(failed.value)
    conditions = kube.live(objects()["deployment"])["status"]["conditions"]
    assert ("False", "ProgressDeadlineExceeded") in [(c["status"], c["reason"]) for c in conditions]
    message = str(failed.value)
    assert "Normal Scheduled: Successfully assigned" in message
    assert 'Warning Failed: Failed to pull image "node1:5000/unpullable:latest"' in message

    big = objects(limits={"cpu": "3", "memory": "500Mi"}, requests={"cpu": "3", "memory": "300Mi"})
    with pytest.raises(KubeError) as unschedulable:  # 5 s: the controller syncs after a moment
        app_stage.rollout(kube, big, 5, False, quiet)
    # The scheduler's events.k8s.io event: eventTime only, lastTimestamp null.
    assert "Warning FailedScheduling: 0/3 nodes are available" in str(unschedulable.value)
    event = kube.core.list_namespaced_event(NS).items[-1]
    assert event.reason == "FailedScheduling"
    assert event.event_time and event.last_timestamp is None


def test_events_sort_by_series_event_time_or_last_timestamp(standin):
    """A repeated scheduler event keeps its first eventTime and moves series.lastObservedTime
    (events.k8s.io/v1 EventSeries); a kubelet event has lastTimestamp only."""
    kube, cluster = standin()
    big = objects(limits={"cpu": "3", "memory": "500Mi"}, requests={"cpu": "3", "memory": "300Mi"})
    with pytest.raises(KubeError):
        app_stage.rollout(kube, big, 0, False, quiet)
    failed = next(e for e in cluster.events if e["reason"] == "FailedScheduling")
    pod = failed["involvedObject"]["name"]
    later = cluster.epoch + cluster.now() + 60
    kubelet = {
        **failed,
        "metadata": {**failed["metadata"], "name": f"{pod}.kubelet"},
        "eventTime": None,
        "lastTimestamp": stamp(later),
        "firstTimestamp": stamp(later),
        "type": "Normal",
        "reason": "Noted",
        "message": "a kubelet event a minute later",
    }
    failed["series"] = {"count": 2, "lastObservedTime": micro(later + 60)}
    cluster.events.append(kubelet)
    lines = pod_events(kube, NS, "app=gourmetgram-kube-app")
    assert [line.split(": ")[1].split()[-1] for line in lines] == ["Noted", "FailedScheduling"]
