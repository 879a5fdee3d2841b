"""Post-install rows: what must hold once `fab up` is done, judged from each node's facts
(the head node's also speak for the cluster: nodes Ready, metrics API, the Service)."""

from __future__ import annotations

from gourmetops.check.parse import PostFacts
from gourmetops.check.rows import Row
from gourmetops.cluster import Cluster
from gourmetops.context import RunContext
from gourmetops.errors import GourmetopsError

NO_KUBERNETES = "the target's cluster stage installs no Kubernetes"


def service_url(ctx: RunContext) -> str | None:
    """The Service's /test on its externalIP, port 80 (manifests/service.yaml)."""
    try:
        return f"http://{ctx.target.external_ip()}/test"
    except GourmetopsError:
        return None


def _pull_fix(node: str, image: str, error: str) -> str:
    """The fix for a failed pull; the untrusted plain-HTTP registry named as such
    (kubernetes-sigs/kubespray#8336: the pull fails on every node but the one set up)."""
    if "server gave HTTP response to HTTPS client" in error:
        return (
            f"docker on {node} does not trust the registry as plain HTTP: `fab registry` puts "
            "it in /etc/docker/daemon.json insecure-registries and restarts docker"
        )
    return f"see `fab registry` and `fab image`; on {node}: sudo docker pull {image}"


def judge(
    node: str,
    f: PostFacts,
    units: tuple[str, ...],
    image: str,
    head: bool,
    cluster: Cluster,
    kube: bool,
) -> list[Row]:
    off = [f"{u} {f.units.get(u) or 'not installed'}" for u in units if f.units.get(u) != "enabled"]
    rows = [
        Row(
            node,
            "engine",
            "; ".join(off) or f"{', '.join(units)} enabled (start at boot)",
            not off,
            f"`sudo systemctl enable --now {' '.join(units)}` on {node}",
        ),
    ]
    rc, text = f.pull or (255, "pull not run")
    last = (text.splitlines() or [""])[-1]
    rows.append(
        Row(
            node,
            "pull",
            f"pulled {image}" if rc == 0 else f"{image}: {last}",
            rc == 0,
            _pull_fix(node, image, text),
        )
    )
    if not head:
        return rows
    if not kube:
        return rows + [
            Row(node, c, "", True, skipped=NO_KUBERNETES) for c in ("ready", "metrics", "service")
        ]
    for name in (n.name for n in cluster.nodes):
        status = (f.nodes or {}).get(name)
        found = f"{name} {status}" if status else f"{name} not listed ({f.nodes_error or 'absent'})"
        rows.append(
            Row(
                name,
                "ready",
                found,
                status == "Ready",
                f"`kubectl describe node {name}` on {node}; `fab cluster` reruns kubespray",
            )
        )
    mrc, mtext = f.metrics or (255, "not run")
    rows.append(
        Row(
            node,
            "metrics",
            "metrics.k8s.io serving" if mrc == 0 else mtext,
            mrc == 0,
            "metrics_server_enabled is the tutorial's edit: rerun `fab kubespray` and "
            "`fab cluster`",
        )
    )
    svc = f.service or "no externalIP known (see `fab rollout`)"
    rows.append(
        Row(
            node,
            "service",
            f"/test: {svc}",
            svc == "status=200",
            "`fab rollout`, then `fab status`",
        )
    )
    return rows
