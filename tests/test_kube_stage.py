"""rollout / scale / autoscale / status / teardown logic, run with the real `kubernetes`
client against tests/kube_standin/: a STAND-IN for the API server (no kube-apiserver can
run here, see the offline mirror's README.md). It checks what our code sends and how it reads
answers shaped like the real API's; it cannot show how a real cluster behaves.

Time: our waits sleep on the stand-in's modelled clock (tests/kube_standin/clock.py), so a
sleep is exactly the time its controllers get; no outcome here depends on the machine."""

from __future__ import annotations

import math

import pytest
from kubernetes import client

from gourmetops.app import stage as app_stage
from gourmetops.app import waits
from gourmetops.app.kube import METRICS_NOT_READY, Kube, KubeError
from gourmetops.app.manifests import AppParams, render
from tests.cli import fab
from tests.kube_standin import ModelClock, serve


@pytest.fixture
def api():
    server, cluster = serve()  # pods Ready 16 s after creation: the manifest's probe
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    yield Kube.from_api_client(client.ApiClient(config), ModelClock(cluster)), cluster
    server.shutdown()
    # Every answer the stand-in gave matched the v1.30 OpenAPI schema (strict).
    assert cluster.invalid == []


NS, DEP = "kube-gourmetgram", "gourmetgram-kube-app"


def objects(**changes):
    return render(AppParams(external_ips=("10.254.0.2",), **changes))


class Echo(list):
    def __call__(self, line: str) -> None:
        self.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self)


def test_dry_rollout_shows_the_diff_and_sends_no_change(api):
    kube, cluster = api
    echo = Echo()
    app_stage.rollout(kube, objects(), 10, True, echo)
    assert cluster.applies == []
    assert "+++ applied Deployment/gourmetgram-kube-app" in echo.text
    assert "+  replicas: 1" in echo.text


def test_rollout_applies_with_our_field_manager_and_waits_for_ready_pods(api):
    kube, cluster = api
    echo = Echo()
    app_stage.rollout(kube, objects(), 60, False, echo)
    assert [(m, path.rsplit("/", 2)[-2]) for m, path, _ in cluster.applies] == [
        ("gourmetops", "namespaces"),
        ("gourmetops", "services"),
        ("gourmetops", "deployments"),
    ]
    assert "Pending (ContainerCreating) ready 0/1" in echo.text
    # node1 is control plane and worker in cluster.yaml, so untainted: the first node
    assert "Running ready 1/1 on node1" in echo.text
    assert echo[-1] == "gourmetgram-kube-app: 1 replica(s) ready"

    again = Echo()
    app_stage.rollout(kube, objects(), 20, True, again)
    assert again[:3] == [
        "Namespace/kube-gourmetgram: no change",
        "Service/gourmetgram-kube-svc: no change",
        "Deployment/gourmetgram-kube-app: no change",
    ]


def test_dry_and_real_runs_are_one_list_of_steps(api):
    """rollout and autoscale build their steps once: the dry run prints each step's words,
    the real run reports each step done, one line per step in the same order."""
    kube, cluster = api
    planned = app_stage.rollout_steps(kube, objects(), 60, Echo())
    dry = Echo()
    app_stage.rollout(kube, objects(), 60, True, dry)
    assert list(dry) == [step.says for step in planned]
    assert dry[-1] == f"wait at most 60s for Deployment/{DEP} to roll out"
    real = Echo()
    app_stage.rollout(kube, objects(), 60, False, real)
    assert [line for line in real if not line.startswith("  ")] == [
        "applied Namespace/kube-gourmetgram",
        "applied Service/gourmetgram-kube-svc",
        f"applied Deployment/{DEP}",
        f"{DEP}: 1 replica(s) ready",
    ]

    dry = Echo()
    app_stage.autoscale(kube, objects(), 60, True, dry)
    assert dry[-2:] == [
        "hand the replica count over to gourmetgram-kube-hpa (field manager handover-to-hpa)",
        f"wait at most 60s for gourmetgram-kube-hpa to sync and hold Deployment/{DEP} at 2-6, "
        "rolled out",
    ]
    real = Echo()
    app_stage.autoscale(kube, objects(), 120, False, real)
    reports = [
        line
        for line in real
        if not line.startswith(("  ", "waiting for", "gourmetgram-kube-hpa set"))
    ]
    assert len(reports) == len(dry) and reports[-2:] == [
        "replica count handed over to gourmetgram-kube-hpa",
        f"{DEP}: 2 replica(s) ready",
    ]


def test_scale_then_autoscale_hands_replicas_to_the_hpa(api):
    kube, cluster = api
    app_stage.rollout(kube, objects(), 60, False, Echo())
    app_stage.scale(kube, objects(replicas=6), 60, False, Echo())
    assert kube.live(objects()["deployment"])["status"]["readyReplicas"] == 6

    echo = Echo()
    app_stage.autoscale(kube, objects(), 60, False, echo)
    managers = [m for m, path, _ in cluster.applies if path.endswith("/gourmetgram-kube-app")]
    assert managers[-2:] == ["handover-to-hpa", "gourmetops"]
    last_body = cluster.applies[-1][2]
    assert "replicas" not in last_body["spec"]
    # The tutorial's replicas: 1 first, then the HPA's minimum of 2 holds.
    live = kube.live(objects()["deployment"])
    assert live["spec"]["replicas"] == 2 and live["status"]["readyReplicas"] == 2

    # Later rollouts leave the HPA's count alone; scaling by hand is refused.
    rolled = Echo()
    app_stage.rollout(kube, objects(), 60, False, rolled)
    assert "owns the replica count: not applying replicas" in rolled.text
    assert "replicas" not in cluster.applies[-1][2]["spec"]
    assert kube.live(objects()["deployment"])["spec"]["replicas"] == 2
    with pytest.raises(KubeError, match="owns the replica count"):
        app_stage.scale(kube, objects(replicas=6), 20, False, Echo())

    app_stage.autoscale_off(kube, objects(), False, Echo())
    assert kube.live(objects()["hpa"]) is None


def test_autoscale_waits_for_a_late_first_hpa_sync(api):
    """The product's race: after the handover the Deployment is rolled out at the manifest's
    1 replica until the HPA's first sync raises it to the minimum of 2. A wait for the
    rollout alone returns at 1; autoscale returns only once the HPA has acted."""
    kube, cluster = api
    cluster.hpa_first_sync = 45.0  # a busy kube-controller-manager: 45 s to the first sync
    app_stage.rollout(kube, objects(), 60, False, Echo())
    kube.apply(objects()["hpa"])
    applied = cluster.now()
    assert waits.wait_rollout(kube, DEP, NS, 60, Echo()) == 1  # the race, as it was
    assert kube.live(objects()["deployment"])["status"]["readyReplicas"] == 1

    echo = Echo()
    app_stage.autoscale(kube, objects(), 120, False, echo)
    live = kube.live(objects()["deployment"])
    assert live["spec"]["replicas"] == 2 and live["status"]["readyReplicas"] == 2
    assert cluster.now() - applied >= 45
    assert f"gourmetgram-kube-hpa set {DEP} to 2 replica(s)" in echo
    assert f"  {DEP}: 2/2 ready, 2 updated" in echo


def test_autoscale_names_an_hpa_that_never_syncs(api):
    kube, cluster = api
    cluster.hpa_first_sync = math.inf  # no kube-controller-manager
    started = cluster.now()
    with pytest.raises(KubeError) as failed:
        app_stage.autoscale(kube, objects(), 60, False, Echo())
    assert str(failed.value).startswith(
        "HorizontalPodAutoscaler/gourmetgram-kube-hpa did not take over in 60s: it has not "
        "synced once (its status has no conditions)"
    )
    assert cluster.now() - started >= 60  # the timeout is the cluster's time, not the wall's
    assert kube.live(objects()["deployment"])["spec"]["replicas"] == 1


def test_autoscale_names_what_the_hpa_says_when_it_cannot_scale(api):
    """A target at 0 replicas: the HPA syncs but disables scaling (horizontal.go), so the
    count stays outside its range and the timeout quotes its conditions."""
    kube, cluster = api
    app_stage.autoscale(kube, objects(), 120, False, Echo())
    cluster.scale(NS, DEP, 0, "kubectl")  # kubectl scale --replicas 0, through /scale
    with pytest.raises(KubeError) as failed:
        app_stage.autoscale(kube, objects(), 60, False, Echo())
    message = str(failed.value)
    assert f"Deployment/{DEP} is at 0 replica(s), outside its 2-6" in message
    assert (
        "ScalingActive False ScalingDisabled: scaling is disabled since the replica count of "
        "the target is zero"
    ) in message


def test_status_reads_hpa_and_metrics_and_explains_missing_metrics(api):
    kube, cluster = api
    app_stage.autoscale(kube, objects(), 60, False, Echo())
    # The HPA counts a new pod's CPU only once metrics-server has a sample taken a metric
    # window after the pod turned Ready (replica_calculator.go groupPods): a few syncs.
    cluster.advance(60)
    echo = Echo()
    app_stage.status(kube, objects(), echo)
    assert "service/gourmetgram-kube-svc: ClusterIP 10.254.233.34 external 10.254.0.2" in echo.text
    assert "deployment/gourmetgram-kube-app: 2/2 ready" in echo.text
    assert "hpa/gourmetgram-kube-hpa: cpu 12%/50%, replicas 2 (min 2, max 6" in echo.text
    assert echo.text.count("cpu 37m memory 211Mi") == 2  # 36874532n, 216064Ki

    cluster.metrics = "starting"
    cluster.advance(15)  # the HPA notices at its next sync
    unready = Echo()
    app_stage.status(kube, objects(), unready)
    assert "cpu <unknown>/50%" in unready.text
    assert METRICS_NOT_READY in unready


def test_rollout_timeout_shows_the_pods_last_events(api):
    kube, _ = api
    with pytest.raises(KubeError) as failed:
        app_stage.rollout(kube, objects(image="node1:5000/unpullable:latest"), 1, False, Echo())
    message = str(failed.value)
    assert "not rolled out in 1s (0/1 ready)" in message
    assert 'Warning Failed: Failed to pull image "node1:5000/unpullable:latest"' in message


def test_teardown_deletes_everything_and_is_idempotent(api):
    kube, cluster = api
    app_stage.autoscale(kube, objects(), 60, False, Echo())
    echo = Echo()
    app_stage.teardown(kube, objects(), 20, False, echo)
    assert echo[0] == "deleted HorizontalPodAutoscaler/gourmetgram-kube-hpa"
    assert echo[-1] == "namespace kube-gourmetgram gone"
    assert cluster.objects == {}
    again = Echo()
    app_stage.teardown(kube, objects(), 20, False, again)
    assert all("already absent" in line for line in again[:4])


def test_bad_flags_are_refused_before_any_connection(tmp_path):
    result = fab("rollout", "--replicas=-1")
    assert result.code == 1
    assert (
        "error: replicas (--replicas, or app_replicas in group_data) must be a whole number"
        " >= 1, not -1"
    ) in result.out
    result = fab("autoscale", "--min", "5", "--max", "2")
    assert result.code == 1 and "HPA min (5) is above max (2)" in result.out


def test_a_rollout_wait_does_not_take_the_status_from_before_the_change(api):
    """The deployment controller syncs a modelled moment after a spec change
    (kube_standin CONTROLLER_DELAY): until then the status is the old one, all replicas
    ready and updated, with observedGeneration behind metadata.generation. wait_rollout must
    not return on it (its observedGeneration check): it returns only once the new template's
    pod is the one running."""
    kube, cluster = api
    app_stage.rollout(kube, objects(), 60, False, Echo())
    changed = objects(image="node1:5000/gourmetgram-app:v2")["deployment"]
    kube.apply(changed)
    stale = kube.live(changed)
    assert stale["status"]["observedGeneration"] < stale["metadata"]["generation"]
    assert waits.wait_rollout(kube, DEP, NS, 60, Echo()) == 1
    live = kube.live(changed)
    assert live["status"]["observedGeneration"] == live["metadata"]["generation"]
    pods = kube.core.list_namespaced_pod(NS, label_selector=f"app={DEP}").items
    running = [p for p in pods if p.metadata.deletion_timestamp is None]
    assert [c.image for p in running for c in p.spec.containers] == [
        "node1:5000/gourmetgram-app:v2"
    ]


def test_a_rerun_before_the_hpas_first_sync_leaves_its_replica_count_alone(api):
    """The handover by its effect. Until the HPA first writes spec.replicas, the last applier
    of it owns it alone; an apply without replicas (what every run does once the HPA exists)
    then removes the field and the API server defaults it to 1 (server-side apply docs,
    "Transferring ownership"). Here kube-controller-manager is busy: autoscale times out
    before the HPA's first sync and the user runs the rollout again. With the handover the
    count stays at the applied 3; without it the Deployment drops to 1, below the HPA's
    minimum of 2, its pods are terminated, and the HPA must scale it back up."""
    kube, cluster = api
    three = objects(replicas=3)  # app_replicas: 3 in group_data
    app_stage.rollout(kube, three, 60, False, Echo())
    cluster.hpa_first_sync = 300.0  # a busy kube-controller-manager: 5 min to the first sync
    with pytest.raises(KubeError, match="has not synced once"):
        app_stage.autoscale(kube, three, 30, False, Echo())

    rerun = Echo()
    app_stage.rollout(kube, three, 60, False, rerun)
    assert "gourmetgram-kube-hpa owns the replica count: not applying replicas" in rerun
    live = kube.live(three["deployment"])
    assert live["spec"]["replicas"] == 3, "the rerun reset the count the HPA was handed"
    assert rerun[-1] == f"{DEP}: 3 replica(s) ready"
    assert not [p for p in cluster.pods[f"{NS}/{DEP}"] if p["deleting"]]

    # The HPA's first sync records the 3 it finds as a recommendation
    # (horizontal.go recordInitialRecommendation): idle pods, but the scale-down waits for
    # that recommendation to leave the 300 s window, then goes to the minimum.
    cluster.advance(300)
    assert kube.live(three["deployment"])["spec"]["replicas"] == 3
    cluster.advance(300)
    assert kube.live(three["deployment"])["spec"]["replicas"] == 2
