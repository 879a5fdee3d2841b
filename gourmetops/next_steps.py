"""What `fab up` says after its stage table when every stage went through: what now runs on
the target, what to open, and the command to run next. A newcomer's run should end with a
way forward, not with timings alone.

    up on chameleon: done.
      running: Kubernetes on node1, node2, node3; the registry on node1:5000 ...
      open:    http://A.B.C.D/  (node1's floating IP, in your own browser)
      next:    fab experiment --target chameleon  ...
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from gourmetops.app.kubeconfig import DEFAULT_LOCAL_PORT, tunnel_command

if TYPE_CHECKING:
    from gourmetops.context import RunContext


def _kubernetes(ctx: RunContext) -> list[str]:
    """The target's cluster runs Kubernetes and the app: its URL through the floating IP
    (NATed to the Service's externalIP, port 80, as in the tutorial)."""
    s, t = ctx.settings, ctx.target
    nodes = ", ".join(n.name for n in t.cluster.nodes)
    tunnel = shlex.join(tunnel_command(t, DEFAULT_LOCAL_PORT))
    return [
        f"  running: Kubernetes on {nodes}; the registry on {s.registry} with {s.app_image}; "
        f"GourmetGram in namespace {s.app_namespace} behind its Service "
        f"(externalIP {t.service_address})",
        f"  open:    http://{t.public_address}/  (node1's floating IP, in your own browser)",
        f"  next:    fab experiment --target {ctx.name}  (the tutorial's stress tests: 1 "
        "replica, 6 replicas, the HPA; its report and plots land in "
        f"{ctx.state_dir / 'results'}/experiment-<time>/, `fab report DIR` redraws them)",
        f"           fab status --target {ctx.name}  (pods, HPA, CPU; kubectl: {tunnel}, "
        f"then KUBECONFIG={ctx.state_dir / 'kubeconfig'})",
    ]


def _docker_only(ctx: RunContext) -> list[str]:
    """The target's cluster stage installs no Kubernetes (the lab): Docker and the registry
    run, and the experiment is for a target that has Kubernetes."""
    s, t = ctx.settings, ctx.target
    registry = f"http://{s.private_address}:{s.registry_port}/v2/_catalog"
    return [
        f"  running: {len(t.cluster.nodes)} nodes with Docker; the registry on {s.registry} "
        f"({registry}, from the nodes) with {s.app_image}; no Kubernetes ({ctx.name}'s "
        "cluster stage installs none)",
        f"  see:     fab catalog --target {ctx.name}  (the image's tags in the registry)",
        f"  next:    fab check --target {ctx.name} --when post  (every node pulls the image)",
        "           the load experiment needs Kubernetes: fab experiment --target chameleon, "
        "then fab report .state/chameleon/results/experiment-<time>",
    ]


def next_steps(ctx: RunContext) -> str:
    """The closing block of a `fab up` that converged every stage on `ctx`'s target."""
    lines = _kubernetes(ctx) if ctx.installs_kubernetes else _docker_only(ctx)
    return "\n".join([f"up on {ctx.name}: done.", *lines])
