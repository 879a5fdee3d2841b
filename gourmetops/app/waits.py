"""Waiting for the cluster to get where we asked: a Deployment rolled out, an object gone,
the HPA taken over. Each wait polls on `kube.clock` (the wall clock for users, the API
stand-in's modelled time in tests) and its timeout names what was not reached."""

from __future__ import annotations

from typing import Any

from gourmetops.app.kube import Echo, Kube, KubeError, pod_events, pod_lines
from gourmetops.output import say
from gourmetops.waiting import poll

_STUCK = "ProgressDeadlineExceeded"  # the deployment controller's verdict (progress.go)


def wait_rollout(
    kube: Kube,
    name: str,
    namespace: str,
    timeout: float,
    echo: Echo = say,
    poll_every: float = 2.0,
) -> int:
    """Until the Deployment's updated, ready and available replicas all match what it
    wants; returns that count. Shows pod changes as they happen; on timeout or the
    controller's ProgressDeadlineExceeded, raises with the pods' last events."""
    shown: list[str] = []
    last: dict[str, Any] = {}

    def rolled_out() -> int | None:
        dep = kube.apps.read_namespaced_deployment_status(name, namespace)
        selector = ",".join(f"{k}={v}" for k, v in dep.spec.selector.match_labels.items())
        want = dep.spec.replicas if dep.spec.replicas is not None else 1
        st = dep.status
        last.update(selector=selector, ready=st.ready_replicas or 0, want=want)
        lines = pod_lines(kube, namespace, selector)
        if lines != shown:
            ready, updated = st.ready_replicas or 0, st.updated_replicas or 0
            echo(f"  {name}: {ready}/{want} ready, {updated} updated")
            for line in lines:
                echo(f"    {line}")
            shown[:] = lines
        # A status from before our last change says nothing about it (deployment
        # controller: observedGeneration catches up with metadata.generation).
        observed = (st.observed_generation or 0) >= (dep.metadata.generation or 0)
        stuck = [c.message for c in st.conditions or [] if c.reason == _STUCK and observed]
        if stuck:
            raise failed(f"stuck: {stuck[0].rstrip('.')}")
        done = (
            observed
            and (st.updated_replicas or 0) == want
            and (st.ready_replicas or 0) == want
            and (st.available_replicas or 0) == want
            and (st.replicas or 0) == want
        )
        return want if done else None

    def failed(why: str) -> KubeError:
        events = pod_events(kube, namespace, last["selector"]) or ["(no events)"]
        return KubeError(
            f"{name} {why} ({last['ready']}/{last['want']} ready); "
            "last pod events:\n  " + "\n  ".join(events)
        )

    return poll(
        rolled_out,
        timeout,
        poll_every,
        lambda: failed(f"not rolled out in {timeout:.0f}s"),
        kube.clock,
    )


def wait_gone(kube: Kube, obj: dict[str, Any], timeout: float, poll_every: float = 1.0) -> None:
    label = f"{obj['kind']}/{obj['metadata']['name']}"
    poll(
        lambda: True if kube.live(obj) is None else None,
        timeout,
        poll_every,
        lambda: KubeError(f"{label} still there after {timeout:.0f}s"),
        kube.clock,
    )


def wait_hpa_acted(
    kube: Kube, hpa: dict[str, Any], timeout: float, echo: Echo = say, poll_every: float = 2.0
) -> int:
    """Until the HPA has synced at least once and holds its target's replica count within
    its min..max, then until the Deployment is rolled out at that count; returns it. Without
    this, what runs after `autoscale` (the experiment's load test) can start before the HPA's
    first sync, on fewer replicas than its minimum.

    v1.30's HPA controller sets no status.observedGeneration (horizontal.go setStatus; added
    behind a gate only in 2026), so "synced" is read from what every sync writes: its
    conditions. It rescales the target before it writes them, so a synced HPA with the count
    out of range means it could not scale, and the timeout names its conditions."""
    meta, spec = hpa["metadata"], hpa["spec"]
    name, ns, target = meta["name"], meta["namespace"], spec["scaleTargetRef"]["name"]
    lo, hi = spec.get("minReplicas", 1), spec["maxReplicas"]
    started = kube.clock.now()
    seen: dict[str, Any] = {}

    def acted() -> int | None:
        status = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler(name, ns).status
        conditions = (status.conditions if status else None) or []
        replicas = kube.apps.read_namespaced_deployment(target, ns).spec.replicas
        seen.update(conditions=conditions, replicas=replicas)
        return replicas if conditions and replicas is not None and lo <= replicas <= hi else None

    def not_acted() -> KubeError:
        head = f"HorizontalPodAutoscaler/{name} did not take over in {timeout:.0f}s"
        if not seen["conditions"]:
            return KubeError(
                f"{head}: it has not synced once (its status has no conditions); the HPA "
                "controller runs in kube-controller-manager, every 15 s (check `kubectl -n "
                "kube-system get pods -l component=kube-controller-manager`)"
            )
        said = "; ".join(f"{c.type} {c.status} {c.reason}: {c.message}" for c in seen["conditions"])
        return KubeError(
            f"{head}: Deployment/{target} is at {seen['replicas']} replica(s), outside its "
            f"{lo}-{hi}; the HPA says: {said}"
        )

    echo(f"waiting for HorizontalPodAutoscaler/{name} to sync and hold {target} at {lo}-{hi}")
    replicas = poll(acted, timeout, poll_every, not_acted, kube.clock)
    echo(f"{name} set {target} to {replicas} replica(s)")
    left = max(timeout - (kube.clock.now() - started), 0.0)
    return wait_rollout(kube, target, ns, left, echo, poll_every)
