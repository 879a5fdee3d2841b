"""The tutorial's "Deploy your service on Kubernetes" steps over the API: rollout, scale,
autoscale, status and teardown, each idempotent. Rollout and autoscale are a list of steps
built once: the dry run prints them (each object's diff against the live one, the waits),
the real run does them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gourmetops.app.kube import (
    FIELD_MANAGER,
    METRICS_NOT_READY,
    Echo,
    Kube,
    KubeError,
    diff,
    hpa_line,
    pod_lines,
    pod_metrics,
)
from gourmetops.app.waits import wait_gone, wait_hpa_acted, wait_rollout

Objects = dict[str, dict[str, Any]]
HANDOVER_MANAGER = "handover-to-hpa"


def _without_replicas(deployment: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(deployment)
    obj["spec"].pop("replicas", None)
    return obj


def _selector(objects: Objects) -> str:
    labels = objects["deployment"]["spec"]["selector"]["matchLabels"]
    return ",".join(f"{k}={v}" for k, v in labels.items())


@dataclass(frozen=True)
class Step:
    """One step of a stage on the API: what the dry run prints (an object's diff against the
    live one, or the wait), and the real run's action, which returns the line it reports."""

    says: str
    act: Callable[[], str]


def _run(steps: list[Step], dry: bool, echo: Echo) -> None:
    """The one place a dry run and a real run part: the same steps, said or done."""
    for step in steps:
        echo(step.says if dry else step.act())


def _apply(kube: Kube, obj: dict[str, Any], field_manager: str = FIELD_MANAGER) -> Step:
    label = f"{obj['kind']}/{obj['metadata']['name']}"
    live = kube.live(obj)
    if obj["kind"] == "Secret":  # its data is never shown, diffed or logged
        same = live is not None and live.get("data") == obj["data"]
        says = f"{label}: {'no change' if same else 'would apply'} (data not shown)"
        done = f"applied {label} (data not shown)"
    else:
        says, done = diff(obj, live), f"applied {label}"

    def act() -> str:
        kube.apply(obj, field_manager=field_manager)
        return done

    return Step(says, act)


def _wait(kube: Kube, deployment: dict[str, Any], timeout: float, echo: Echo) -> Step:
    name, ns = deployment["metadata"]["name"], deployment["metadata"]["namespace"]
    return Step(
        f"wait at most {timeout:.0f}s for Deployment/{name} to roll out",
        lambda: f"{name}: {wait_rollout(kube, name, ns, timeout, echo)} replica(s) ready",
    )


def rollout_steps(
    kube: Kube,
    objects: Objects,
    timeout: float,
    echo: Echo,
    secret: dict[str, Any] | None = None,
) -> list[Step]:
    """Namespace, Service, the registry pull Secret (with registry auth on) and Deployment
    applied, then the wait for the rollout. While the HPA exists it owns the replica count,
    so replicas are not applied."""
    deployment = objects["deployment"]
    if kube.live(objects["hpa"]) is not None:
        echo(f"{objects['hpa']['metadata']['name']} owns the replica count: not applying replicas")
        deployment = _without_replicas(deployment)
    items = [objects["namespace"], objects["service"], *([secret] if secret else []), deployment]
    return [*(_apply(kube, obj) for obj in items), _wait(kube, deployment, timeout, echo)]


def rollout(
    kube: Kube,
    objects: Objects,
    timeout: float,
    dry: bool,
    echo: Echo,
    secret: dict[str, Any] | None = None,
) -> None:
    """rollout_steps, printed (dry) or done."""
    _run(rollout_steps(kube, objects, timeout, echo, secret), dry, echo)


def scale(kube: Kube, objects: Objects, timeout: float, dry: bool, echo: Echo) -> None:
    """The Deployment at objects' replica count; refused while the HPA owns it."""
    hpa = objects["hpa"]
    if kube.live(hpa) is not None:
        raise KubeError(
            f"{hpa['metadata']['name']} owns the replica count; remove it first "
            "(`fab autoscale --off`) to scale by hand"
        )
    rollout(kube, objects, timeout, dry, echo)


def autoscale_steps(
    kube: Kube,
    objects: Objects,
    timeout: float,
    echo: Echo,
    secret: dict[str, Any] | None = None,
) -> list[Step]:
    """The tutorial's autoscaling step: the Deployment back to its replicas (1), the HPA
    applied, and the replica count handed over to the HPA so that later applies of the
    Deployment do not reset it (Kubernetes' documented server-side-apply handover); then
    the wait until the HPA has acted: synced, the count within its range, rolled out. The
    registry pull Secret, with registry auth on, is applied before the Deployment."""
    hpa, deployment = objects["hpa"], objects["deployment"]
    had_hpa = kube.live(hpa) is not None
    items = [objects["namespace"], objects["service"], *([secret] if secret else [])]
    items.append(_without_replicas(deployment) if had_hpa else deployment)
    steps = [_apply(kube, obj) for obj in [*items, hpa]]
    if not had_hpa:
        steps.append(_hand_over(kube, deployment, hpa))
    lo, hi = hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"]

    def acted() -> str:
        replicas = wait_hpa_acted(kube, hpa, timeout, echo)
        return f"{deployment['metadata']['name']}: {replicas} replica(s) ready"

    says = (
        f"wait at most {timeout:.0f}s for {hpa['metadata']['name']} to sync and hold "
        f"Deployment/{deployment['metadata']['name']} at {lo}-{hi}, rolled out"
    )
    return [*steps, Step(says, acted)]


def autoscale(
    kube: Kube,
    objects: Objects,
    timeout: float,
    dry: bool,
    echo: Echo,
    secret: dict[str, Any] | None = None,
) -> None:
    """autoscale_steps, printed (dry) or done."""
    _run(autoscale_steps(kube, objects, timeout, echo, secret), dry, echo)


def _hand_over(kube: Kube, deployment: dict[str, Any], hpa: dict[str, Any]) -> Step:
    """spec.replicas moved from our field manager to one that never applies again, then
    dropped from ours, so the HPA's writes are not undone by our next apply."""
    name = hpa["metadata"]["name"]

    def act() -> str:
        live = kube.live(deployment) or {}
        replicas = live.get("spec", {}).get("replicas", deployment["spec"].get("replicas", 1))
        handover = {
            "apiVersion": deployment["apiVersion"],
            "kind": deployment["kind"],
            "metadata": {k: deployment["metadata"][k] for k in ("name", "namespace")},
            "spec": {"replicas": replicas},
        }
        kube.apply(handover, field_manager=HANDOVER_MANAGER)
        kube.apply(_without_replicas(deployment))
        return f"replica count handed over to {name}"

    return Step(f"hand the replica count over to {name} (field manager {HANDOVER_MANAGER})", act)


def autoscale_off(kube: Kube, objects: Objects, dry: bool, echo: Echo) -> None:
    hpa = objects["hpa"]
    if dry:
        state = "would delete" if kube.live(hpa) is not None else "no"
        echo(f"{state} HorizontalPodAutoscaler/{hpa['metadata']['name']}")
        return
    gone = kube.delete(hpa)
    echo(f"deleted HorizontalPodAutoscaler/{hpa['metadata']['name']}" if gone else "no HPA")


def status(kube: Kube, objects: Objects, echo: Echo) -> None:
    """What `kubectl get all -o wide` shows for our objects, the HPA, and `kubectl top pod`."""
    ns = objects["namespace"]["metadata"]["name"]
    svc = kube.live(objects["service"])
    if svc is None:
        echo(f"service/{objects['service']['metadata']['name']}: absent")
    else:
        spec = svc["spec"]
        ports = ",".join(
            f"{p['port']}->{p.get('targetPort')}/{p['protocol']}" for p in spec["ports"]
        )
        echo(
            f"service/{svc['metadata']['name']}: {spec['type']} {spec.get('clusterIP', '-')} "
            f"external {','.join(spec.get('externalIPs', [])) or '-'} ports {ports}"
        )
    dep = kube.live(objects["deployment"])
    if dep is None:
        echo(f"deployment/{objects['deployment']['metadata']['name']}: absent")
    else:
        st = dep.get("status", {})
        image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
        echo(
            f"deployment/{dep['metadata']['name']}: {st.get('readyReplicas', 0)}/"
            f"{dep['spec'].get('replicas')} ready, {st.get('updatedReplicas', 0)} up-to-date, "
            f"{st.get('availableReplicas', 0)} available, image {image}"
        )
        for line in pod_lines(kube, ns, _selector(objects)):
            echo(f"  pod/{line}")
    hpa = hpa_line(kube, objects["hpa"]["metadata"]["name"], ns)
    if hpa:
        echo(hpa)
    usage = pod_metrics(kube, ns)
    if usage is None:
        echo(METRICS_NOT_READY)
    else:
        for pod, values in sorted(usage.items()):
            echo(f"  top {pod}: cpu {values['cpu']} memory {values['memory']}")


def teardown(kube: Kube, objects: Objects, timeout: float, dry: bool, echo: Echo) -> None:
    """Everything we applied deleted, in reverse order; waits until the namespace is gone."""
    for name in ("hpa", "deployment", "service", "namespace"):
        obj = objects[name]
        label = f"{obj['kind']}/{obj['metadata']['name']}"
        if dry:
            echo(f"would delete {label}" if kube.live(obj) is not None else f"{label}: absent")
            continue
        echo(f"deleted {label}" if kube.delete(obj) else f"{label}: already absent")
    if not dry:
        wait_gone(kube, objects["namespace"], timeout)
        echo(f"namespace {objects['namespace']['metadata']['name']} gone")
