"""`fab reset`: kubespray's reset.yml, which removes Kubernetes (and, with the docker
container manager, the Docker engine and every container) from every node. It asks first:
the user types the target's name, or passes --yes; with no input it refuses. Afterwards the
cluster stage's record and the fetched kubeconfig are gone, so the next `fab up` installs
again; what the reset leaves is said (kubespray's roles/reset, release-2.26)."""

from __future__ import annotations

from typing import TextIO

from gourmetops.confirm import confirm as asked
from gourmetops.context import RunContext
from gourmetops.errors import StageFailed
from gourmetops.kubespray import record as records
from gourmetops.kubespray.overrides import INVENTORY
from gourmetops.kubespray.playbook import PlaybookFailed, PlaybookRun, run_with_retries
from gourmetops.output import say

PLAYBOOK = "reset.yml"
# reset.yml pauses for a typed "yes" unless this is set (kubespray issues #10287, #10301)
CONFIRMED = (("reset_confirmation", "yes"),)
KEPT = (
    "the registry's images (the registry-data volume on node1; `fab up` starts the "
    "registry again on it)",
    "prepare's host state (node1's key, pinned host keys, firewalld off)",
    "kubespray's checkout and virtualenv on node1",
)


def confirm(target: str, yes: bool, stdin: TextIO | None = None) -> None:
    """Go on only when `yes`, or the target's name is typed; no input refuses."""
    warning = f"fab reset removes Kubernetes and the Docker engine from every node of {target!r}."
    asked(target, yes, warning, f"reset of {target!r}", stdin)


def plan(ctx: RunContext) -> PlaybookRun:
    data = ctx.settings
    return PlaybookRun(
        kubespray_dir=data.kubespray_dir,
        venv=data.kubespray_venv,
        inventory=f"{INVENTORY}/hosts.yaml",
        playbook=PLAYBOOK,
        forks=len(ctx.target.cluster.nodes),
        extra_vars=CONFIRMED,
        prelude=records.forget_command(),
    )


def reset(ctx: RunContext, dry: bool, retries: int = 0) -> None:
    """reset.yml from node1 (after `confirm`); the record goes first (in the playbook's own
    command), so a reset that stops halfway still makes the next `fab up` install again;
    the fetched kubeconfig goes once the cluster is gone."""
    run = plan(ctx)
    kubeconfig = ctx.state_dir / "kubeconfig"
    kept = "".join(f"\n  kept: {k}" for k in KEPT)
    if dry:
        say(
            f"would run on {ctx.head} ({ctx.name}), up to {retries + 1} time(s):\n"
            f"  {run.command()}\nwould forget node1:~/{records.RECORD} and {kubeconfig}{kept}"
        )
        return
    conn = ctx.connect()
    try:
        run_with_retries(conn, run, ctx.state_dir / "logs", retries=retries)
    except PlaybookFailed as exc:
        raise StageFailed(
            f"reset failed on target {ctx.name}: {exc}; the next `fab up` installs again"
        ) from None
    kubeconfig.unlink(missing_ok=True)  # it points at a cluster that is gone
    say(f"reset: Kubernetes removed from {ctx.name}{kept}\nnext: `fab up --target {ctx.name}`")
