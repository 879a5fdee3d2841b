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


def engine_row(node: str, f: PostFacts, units: tuple[str, ...]) -> Row:
    off = [f"{u} {f.units.get(u) or 'not installed'}" for u in units if f.units.get(u) != "enabled"]
    return Row(
        node,
        "engine",
        "; ".join(off) or f"{', '.join(units)} enabled (start at boot)",
        not off,
        f"`sudo systemctl enable --now {' '.join(units)}` on {node}",
    )


def pull_row(node: str, f: PostFacts, image: str) -> Row:
    rc, text = f.pull or (255, "pull not run")
    last = (text.splitlines() or [""])[-1]
    found = f"pulled {image}" if rc == 0 else f"{image}: {last}"
    return Row(node, "pull", found, rc == 0, _pull_fix(node, image, text))


def ready_rows(node: str, f: PostFacts, cluster: Cluster) -> list[Row]:
    """Every cluster.yaml node Ready, as the head node's kubectl lists them."""
    rows = []
    for name in (n.name for n in cluster.nodes):
        status = (f.nodes or {}).get(name)
        found = f"{name} {status}" if status else f"{name} not listed ({f.nodes_error or 'absent'})"
        fix = f"`kubectl describe node {name}` on {node}; `fab cluster` reruns kubespray"
        rows.append(Row(name, "ready", found, status == "Ready", fix))
    return rows


def metrics_row(node: str, f: PostFacts) -> Row:
    rc, text = f.metrics or (255, "not run")
    fix = "metrics_server_enabled is the tutorial's edit: rerun `fab kubespray` and `fab cluster`"
    return Row(node, "metrics", "metrics.k8s.io serving" if rc == 0 else text, rc == 0, fix)


def service_row(node: str, f: PostFacts) -> Row:
    svc = f.service or "no externalIP known (see `fab rollout`)"
    return Row(
        node, "service", f"/test: {svc}", svc == "status=200", "`fab rollout`, then `fab status`"
    )


def judge(
    node: str,
    f: PostFacts,
    units: tuple[str, ...],
    image: str,
    head: bool,
    cluster: Cluster,
    kube: bool,
) -> list[Row]:
    """Every node: its engine and a pull from the registry. The head node also speaks for
    the cluster (nodes Ready, the metrics API, the Service), skipped where the target
    installs no Kubernetes."""
    rows = [engine_row(node, f, units), pull_row(node, f, image)]
    if not head:
        return rows
    if not kube:
        skipped = ("ready", "metrics", "service")
        return rows + [Row(node, c, "", True, skipped=NO_KUBERNETES) for c in skipped]
    return rows + ready_rows(node, f, cluster) + [metrics_row(node, f), service_row(node, f)]
