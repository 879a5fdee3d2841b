"""The app on Kubernetes: the kubeconfig fetched through node1, then the tutorial's
Deployment, Service and HPA applied, scaled, watched and deleted through the API tunnel."""

from __future__ import annotations

from typing import Any

from gourmetops import flags
from gourmetops.app.kubeconfig import DEFAULT_LOCAL_PORT, fetch
from tasks.common import KUBE_HELP, TARGET_HELP, gtask

# The stages' modules are imported in the tasks that run them, not here: they pull in
# pyinfra, pydantic and the kubernetes client, which `fab --list` and `--help` never use.


def _wait_flags(timeout: Any, port: Any) -> tuple[float, int]:
    """--timeout (seconds, default 300) and --port (the tunnel's local end), checked first."""
    return (
        flags.seconds("timeout", timeout, 300, minimum=1),
        flags.port("port", port, DEFAULT_LOCAL_PORT),
    )


def _count(flag: str, value: Any) -> int | None:
    """A count given on the command line; its range is checked with the manifests."""
    return flags.optional_whole(flag, value, minimum=None)


@gtask(
    help={
        **TARGET_HELP,
        "port": KUBE_HELP["port"],
        "merge": "also add the context gourmetops-<target> to $KUBECONFIG's file or "
        "~/.kube/config (other entries kept; current-context kept unless there is none)",
        "dry": "say what would be copied, fetched and merged, touch nothing",
    }
)
def kubeconfig(c, target=None, port=None, merge=False, dry=False):
    """Give cc root's kubeconfig on node1, fetch it (server via an SSH tunnel), check Ready."""
    from gourmetops.app import kubeconfig_user
    from gourmetops.run import changing

    port = flags.port("port", port, DEFAULT_LOCAL_PORT)
    then = None
    if merge:
        dest = kubeconfig_user.destination()
        if not dry:
            kubeconfig_user.read_user_config(dest)  # refused here, before any host is asked
        then = lambda text: kubeconfig_user.merge_and_say(dest, text, target, port)  # noqa: E731
    with changing(target, "kubeconfig", dry) as ctx:
        fetch(ctx, dry, port, then)


@gtask(
    help={
        "target": TARGET_HELP["target"],
        "port": KUBE_HELP["port"],
        "dry": "print the ssh command, connect nowhere",
    }
)
def tunnel(c, target=None, port=None, dry=False):
    """Hold the SSH tunnel to the API server (via node1) open in the foreground; Ctrl-C ends it."""
    from gourmetops.app.tunnel import hold
    from gourmetops.targets import get_target

    port = flags.port("port", port, DEFAULT_LOCAL_PORT)
    hold(get_target(target), port, dry)


@gtask(help={**KUBE_HELP, "replicas": "Deployment replicas (default: group_data app_replicas)"})
def rollout(c, target=None, replicas=None, timeout=None, port=None, dry=False):
    """Apply namespace, Service and Deployment (server-side); wait until rolled out."""
    from gourmetops.app import api as app_api
    from gourmetops.run import changing

    timeout, port = _wait_flags(timeout, port)
    replicas = _count("replicas", replicas)
    with changing(target, "rollout", dry) as ctx:
        app_api.rollout(ctx, dry, replicas, timeout, port)


@gtask(help={**KUBE_HELP, "replicas": "how many pods (the tutorial's second step: 6)"})
def scale(c, replicas, target=None, timeout=None, port=None, dry=False):
    """Set the Deployment's replicas and wait (refused while the HPA owns them)."""
    from gourmetops.app import api as app_api
    from gourmetops.run import changing

    timeout, port = _wait_flags(timeout, port)
    replicas = _count("replicas", replicas)
    with changing(target, "scale", dry) as ctx:
        app_api.scale(ctx, dry, replicas, timeout, port)


@gtask(
    help={
        **KUBE_HELP,
        "min": "HPA minReplicas (default 2)",
        "max": "HPA maxReplicas (default 6)",
        "cpu": "target average CPU utilization, percent (default 50)",
        "off": "delete the HPA instead (replicas stay where it left them)",
    }
)
def autoscale(
    c, target=None, min=None, max=None, cpu=None, off=False, timeout=None, port=None, dry=False
):
    """Apply the HPA, Deployment back to 1 replica, replica count handed over to the HPA."""
    from gourmetops.app import api as app_api
    from gourmetops.run import changing

    timeout, port = _wait_flags(timeout, port)
    hpa = {"hpa_min": _count("min", min), "hpa_max": _count("max", max)}
    hpa["hpa_cpu"] = _count("cpu", cpu)
    with changing(target, "autoscale", dry) as ctx:
        app_api.autoscale(ctx, dry, hpa, off, timeout, port)


@gtask(help={"target": TARGET_HELP["target"], "port": KUBE_HELP["port"]})
def status(c, target=None, port=None):
    """Service, Deployment, pods (-o wide), HPA current/target CPU and `top pod` numbers."""
    from gourmetops.app import stage as app_stage
    from gourmetops.app.api import cluster_api, objects_for
    from gourmetops.context import RunContext

    _, port = _wait_flags(None, port)
    ctx = RunContext(target)
    objects = objects_for(ctx, dry=True)  # it only reads: nothing fetched for it
    with cluster_api(ctx, port) as kube:
        app_stage.status(kube, objects, print)


@gtask(help={**KUBE_HELP, "timeout": "seconds to wait until the namespace is gone"})
def teardown(c, target=None, timeout=None, port=None, dry=False):
    """Delete what rollout/autoscale applied, HPA first, and wait until it is gone."""
    from gourmetops.app import api as app_api
    from gourmetops.run import changing

    timeout, port = _wait_flags(timeout, port)
    with changing(target, "teardown", dry) as ctx:
        app_api.teardown(ctx, dry, timeout, port)
