"""The stages `fab up` runs, in order, as data (k0sctl's phase list as model): each a name,
what it runs (with its own dry run), and when it applies. `run_all` walks the list, prints
a line as each stage starts and a table of stage timings at the end.

    prepare  kubespray  cluster  kubeconfig*  registry  image  rollout*
    (* only where the cluster stage installs Kubernetes)

A stage's code, from its name: prepare/kubespray/registry are deploys/<name>.py run by
gourmetops.pyinfra_run.deploy; cluster is gourmetops.kubespray.stage; kubeconfig is
gourmetops.app.kubeconfig.fetch; image is gourmetops.registry.stage; rollout is
gourmetops.app.api.rollout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from gourmetops import lab as labmod
from gourmetops.app import api as app_api
from gourmetops.app import kubeconfig
from gourmetops.context import RunContext
from gourmetops.kubespray import stage as kubespray_stage
from gourmetops.pyinfra_run import deploy
from gourmetops.registry import stage as registry_stage
from gourmetops.run import changing


def _always(ctx: RunContext) -> bool:
    return True


def installs_kubernetes(ctx: RunContext) -> bool:
    """When a stage that talks to Kubernetes applies (also the notebook's later sections)."""
    return ctx.installs_kubernetes


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[RunContext, bool], None]  # (context, dry)
    applies: Callable[[RunContext], bool] = _always
    skipped_because: str = ""  # said when `applies` is false; {target} is filled in


NO_KUBERNETES = "{target}'s cluster stage installs no Kubernetes"

STAGES: tuple[Stage, ...] = (
    Stage("prepare", partial(deploy, name="prepare")),
    Stage("kubespray", partial(deploy, name="kubespray")),
    Stage("cluster", kubespray_stage.cluster),
    Stage("kubeconfig", kubeconfig.fetch, installs_kubernetes, NO_KUBERNETES),
    Stage("registry", partial(deploy, name="registry")),
    Stage("image", registry_stage.image),
    Stage("rollout", app_api.rollout, installs_kubernetes, NO_KUBERNETES),
)


@dataclass
class Timing:
    stage: str
    seconds: float | None  # None: not run
    outcome: str  # ok, dry, skipped, failed, not reached


def run_all(ctx: RunContext, dry: bool, stages: tuple[Stage, ...] = STAGES) -> list[Timing]:
    """Every stage in order; the first failure stops the walk (after the table)."""
    timings: list[Timing] = []
    try:
        for i, stage in enumerate(stages, 1):
            head = f"==> stage {i}/{len(stages)}: {stage.name}"
            if not stage.applies(ctx):
                why = stage.skipped_because.format(target=ctx.name)
                print(f"{head}: skipped, {why}", flush=True)
                timings.append(Timing(stage.name, None, "skipped"))
                continue
            print(f"{head}{' (dry run)' if dry else ''}", flush=True)
            started = time.monotonic()
            try:
                stage.run(ctx, dry)
            except BaseException:
                timings.append(Timing(stage.name, time.monotonic() - started, "failed"))
                raise
            timings.append(Timing(stage.name, time.monotonic() - started, "dry" if dry else "ok"))
    finally:
        done = {t.stage for t in timings}
        timings += [Timing(s.name, None, "not reached") for s in stages if s.name not in done]
        print(table(ctx.name, timings), flush=True)
    return timings


def run_on(target: str, task: str, dry: bool, stages: tuple[Stage, ...] = STAGES) -> list[Timing]:
    """`fab up` (and each section of the notebook): for the lab, start it first, or in a dry
    run on a stopped lab say so and stop; then the stages under the target's lock and log."""
    if target == "lab" and dry and labmod.status().state != "running":
        print("lab is not running: a real run would start it; dry run stops here")
        return []
    with changing(target, task, dry) as ctx:
        if target == "lab" and not dry:
            labmod.up()
        return run_all(ctx, dry, stages)


def table(target: str, timings: list[Timing]) -> str:
    """stage, seconds and outcome, one row each, and the total."""
    width = max(len(t.stage) for t in timings)
    rows = [f"stage timings ({target}):"]
    for t in timings:
        seconds = f"{t.seconds:8.1f} s" if t.seconds is not None else f"{'-':>8}  "
        rows.append(f"  {t.stage:<{width}}  {seconds}  {t.outcome}")
    total = sum(t.seconds or 0 for t in timings)
    rows.append(f"  {'total':<{width}}  {total:8.1f} s")
    return "\n".join(rows)
