"""The cluster stage: kubespray's playbook run from node1 in its virtualenv (the tutorial's
"Install Kubernetes"), progress shown, the whole log kept, retried while hosts fail; in the
lab, then the stand-in for kubespray's container-engine role (deploys/lab_container_engine.py)."""

from __future__ import annotations

import sys

from gourmetops.context import RunContext
from gourmetops.errors import StageFailed
from gourmetops.kubespray.overrides import INVENTORY
from gourmetops.kubespray.playbook import PlaybookFailed, PlaybookRun, run_with_retries
from gourmetops.pyinfra_run import deploy


def cluster(
    ctx: RunContext, dry: bool, playbook: str | None = None, retries: int | None = None
) -> None:
    data = ctx.settings
    run = PlaybookRun(
        kubespray_dir=data.kubespray_dir,
        venv=data.kubespray_venv,
        inventory=f"{INVENTORY}/hosts.yaml",
        playbook=playbook or data.cluster_playbook,
        forks=len(ctx.target.cluster.nodes),
    )
    retries = data.cluster_retries if retries is None else retries
    if dry:
        times = f"up to {retries + 1} time(s)"
        print(f"would run on {ctx.head} ({ctx.name}), {times}:\n  {run.command()}")
        if data.container_engine == "lab":
            deploy(ctx, dry, "lab_container_engine")
        return
    logs = ctx.state_dir / "logs"
    try:
        recap = run_with_retries(ctx.connect(), run, logs, retries=retries, echo=sys.stdout)
    except PlaybookFailed as exc:
        raise StageFailed(f"cluster failed on target {ctx.name}: {exc}") from None
    print(
        f"==> {run.playbook}: "
        + ", ".join(f"{h.host} ok={h.ok} changed={h.changed}" for h in recap.values())
    )
    if data.container_engine == "lab":
        # What kubespray's container-engine role does on a real node (see the deploy).
        deploy(ctx, dry, "lab_container_engine")
