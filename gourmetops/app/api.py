"""The app stages' way to the cluster: the objects rendered and checked for the cluster's
Kubernetes version before any request, and the API client through the SSH tunnel the
fetched kubeconfig points at (failures named by what answered, not as tracebacks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException
from ruamel.yaml import YAML

from gourmetops import service_address
from gourmetops.app import manifests
from gourmetops.app import stage as app_stage
from gourmetops.app.kube import Kube
from gourmetops.app.kubeconfig import API_PORT, DEFAULT_LOCAL_PORT
from gourmetops.app.tunnel import api_tunnel
from gourmetops.context import RunContext
from gourmetops.errors import GourmetopsError, StageFailed
from gourmetops.kubespray.checkout import controller_checkout, dry_run_checkout
from gourmetops.kubespray.overrides import kube_version
from gourmetops.output import say

Objects = dict[str, dict[str, Any]]
ROLLOUT_TIMEOUT = 300.0


def objects_for(ctx: RunContext, dry: bool = False, **overrides: Any) -> Objects:
    """The app's objects with `overrides` (None keeps the setting), strictly validated for
    kubespray's Kubernetes version. A dry run reads that version from the cached checkout
    only; without one it says what a real run would fetch and checks the rest."""
    data = ctx.settings
    if ctx.target.service_address is None:  # not given and not found before: node1 tells
        found = service_address.discover(ctx.connect(), ctx.target, keep=not dry)
        ctx.target = replace(ctx.target, service_address=found)
    objects = manifests.render(manifests.params_for(ctx.target, data, **overrides))
    source, ref = data.kubespray_source, data.kubespray_ref
    checkout = dry_run_checkout(source, ref) if dry else controller_checkout(source, ref)
    if checkout is None:
        say(
            f"dry run: kubespray {ref} of {source} is not on the controller, so the objects "
            "are not checked against its Kubernetes version (a real run clones it first)",
            err=True,
        )
        return objects
    manifests.validate(objects, kube_version(checkout, data.kubespray_group_vars))
    return objects


@contextmanager
def cluster_api(ctx: RunContext, port: int = DEFAULT_LOCAL_PORT) -> Iterator[Kube]:
    """The kubernetes client through `ssh -L port:127.0.0.1:6443` to node1."""
    kubeconfig_path = ctx.state_dir / "kubeconfig"
    if not kubeconfig_path.exists():
        raise StageFailed(f"no {kubeconfig_path}: run `fab kubeconfig --target {ctx.name}` first")
    try:
        with api_tunnel(ctx.target, port):
            yield Kube.from_kubeconfig(str(kubeconfig_path))
    except ApiException as exc:
        raise StageFailed(
            f"the API server refused: {exc.status} {exc.reason}: {exc.body}"
        ) from None
    except urllib3.exceptions.HTTPError as exc:
        clusters = (YAML(typ="safe").load(kubeconfig_path.read_text()) or {}).get("clusters", [])
        servers = ", ".join(str(c.get("cluster", {}).get("server")) for c in clusters)
        raise GourmetopsError(
            f"no API server answered at {servers} ({kubeconfig_path}, through the SSH tunnel "
            f"to {ctx.head}:{API_PORT}): {getattr(exc, 'reason', None) or exc}"
        ) from None


def rollout(
    ctx: RunContext,
    dry: bool,
    replicas: int | None = None,
    timeout: float = ROLLOUT_TIMEOUT,
    port: int = DEFAULT_LOCAL_PORT,
) -> None:
    """Namespace, Service and Deployment applied, waited for (`fab up` runs it with the
    settings' replicas; `fab rollout`, the notebook's Deploy section)."""
    objects = objects_for(ctx, dry, replicas=replicas)
    secret = manifests.pull_secret_for(ctx.settings)
    with cluster_api(ctx, port) as kube:
        app_stage.rollout(kube, objects, timeout, dry, say, secret=secret)


def scale(
    ctx: RunContext,
    dry: bool,
    replicas: int | None = None,
    timeout: float = ROLLOUT_TIMEOUT,
    port: int = DEFAULT_LOCAL_PORT,
) -> None:
    """The Deployment's replicas set and waited for (the tutorial's "more replicas")."""
    objects = objects_for(ctx, dry, replicas=replicas)
    with cluster_api(ctx, port) as kube:
        app_stage.scale(kube, objects, timeout, dry, say)


def autoscale(
    ctx: RunContext,
    dry: bool,
    hpa: dict[str, int | None] | None = None,
    off: bool = False,
    timeout: float = ROLLOUT_TIMEOUT,
    port: int = DEFAULT_LOCAL_PORT,
) -> None:
    """The HPA applied with `hpa` (hpa_min/hpa_max/hpa_cpu; None keeps the setting) and the
    replica count handed over to it, or with `off` deleted."""
    objects = objects_for(ctx, dry, **(hpa or {}))
    secret = manifests.pull_secret_for(ctx.settings)
    with cluster_api(ctx, port) as kube:
        if off:
            app_stage.autoscale_off(kube, objects, dry, say)
        else:
            app_stage.autoscale(kube, objects, timeout, dry, say, secret=secret)


def teardown(
    ctx: RunContext, dry: bool, timeout: float = ROLLOUT_TIMEOUT, port: int = DEFAULT_LOCAL_PORT
) -> None:
    """What rollout and autoscale applied deleted, HPA first, waited until gone."""
    objects = objects_for(ctx, dry)
    with cluster_api(ctx, port) as kube:
        app_stage.teardown(kube, objects, timeout, dry, say)
