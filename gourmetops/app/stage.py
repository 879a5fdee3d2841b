"""The tutorial's "Deploy your service on Kubernetes" steps over the API: rollout, scale,
autoscale, status and teardown, each idempotent and each with a dry run that prints the
objects' diff against the live ones."""

from __future__ import annotations

import copy
from typing import Any

from gourmetops.app.kube import (
    METRICS_NOT_READY,
    Echo,
    Kube,
    KubeError,
    diff,
    hpa_line,
    pod_lines,
    pod_metrics,
    wait_gone,
    wait_hpa_acted,
    wait_rollout,
)

Objects = dict[str, dict[str, Any]]
HANDOVER_MANAGER = "handover-to-hpa"


def _without_replicas(deployment: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(deployment)
    obj["spec"].pop("replicas", None)
    return obj


def _selector(objects: Objects) -> str:
    labels = objects["deployment"]["spec"]["selector"]["matchLabels"]
    return ",".join(f"{k}={v}" for k, v in labels.items())


def _apply_all(kube: Kube, items: list[dict[str, Any]], dry: bool, echo: Echo) -> None:
    for obj in items:
        if obj["kind"] == "Secret":  # its data is never shown, diffed or logged
            label = f"Secret/{obj['metadata']['name']}"
            live = kube.live(obj)
            same = live is not None and live.get("data") == obj["data"]
            if dry:
                echo(f"{label}: {'no change' if same else 'would apply'} (data not shown)")
            else:
                kube.apply(obj)
                echo(f"applied {label} (data not shown)")
        elif dry:
            echo(diff(obj, kube.live(obj)))
        else:
            kube.apply(obj)
            echo(f"applied {obj['kind']}/{obj['metadata']['name']}")


def rollout(
    kube: Kube,
    objects: Objects,
    timeout: float,
    dry: bool,
    echo: Echo,
    secret: dict[str, Any] | None = None,
) -> None:
    """Namespace, Service, the registry pull Secret (with registry auth on) and Deployment
    applied; waits until the Deployment is rolled out. While the HPA exists it owns the
    replica count, so replicas are not applied."""
    deployment = objects["deployment"]
    if kube.live(objects["hpa"]) is not None:
        echo(f"{objects['hpa']['metadata']['name']} owns the replica count: not applying replicas")
        deployment = _without_replicas(deployment)
    secrets = [secret] if secret else []
    _apply_all(kube, [objects["namespace"], objects["service"], *secrets, deployment], dry, echo)
    if not dry:
        name, ns = deployment["metadata"]["name"], deployment["metadata"]["namespace"]
        ready = wait_rollout(kube, name, ns, timeout, echo)
        echo(f"{name}: {ready} replica(s) ready")


def scale(kube: Kube, objects: Objects, timeout: float, dry: bool, echo: Echo) -> None:
    """The Deployment at objects' replica count; refused while the HPA owns it."""
    hpa = objects["hpa"]
    if kube.live(hpa) is not None:
        raise KubeError(
            f"{hpa['metadata']['name']} owns the replica count; remove it first "
            "(`fab autoscale --off`) to scale by hand"
        )
    rollout(kube, objects, timeout, dry, echo)


def autoscale(
    kube: Kube,
    objects: Objects,
    timeout: float,
    dry: bool,
    echo: Echo,
    secret: dict[str, Any] | None = None,
) -> None:
    """The tutorial's autoscaling step: the Deployment back to its replicas (1), the HPA
    applied, and the replica count handed over to the HPA so that later applies of the
    Deployment do not reset it (Kubernetes' documented server-side-apply handover). The
    registry pull Secret, with registry auth on, is applied before the Deployment. Returns
    once the HPA has acted: synced, the count within its range and rolled out."""
    hpa, deployment = objects["hpa"], objects["deployment"]
    had_hpa = kube.live(hpa) is not None
    items = [objects["namespace"], objects["service"], *([secret] if secret else [])]
    items.append(_without_replicas(deployment) if had_hpa else deployment)
    items.append(hpa)
    _apply_all(kube, items, dry, echo)
    if dry:
        return
    if not had_hpa:
        _hand_over(kube, deployment, hpa, echo)
    wait_hpa_acted(kube, hpa, timeout, echo)


def _hand_over(kube: Kube, deployment: dict[str, Any], hpa: dict[str, Any], echo: Echo) -> None:
    """spec.replicas moved from our field manager to one that never applies again, then
    dropped from ours, so the HPA's writes are not undone by our next apply."""
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
    echo(f"replica count handed over to {hpa['metadata']['name']}")


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
