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

import difflib
import importlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from gourmetops.errors import InputError
from gourmetops.output import say

if TYPE_CHECKING:
    from gourmetops.context import RunContext


def _lazy(where: str) -> Callable[..., Any]:
    """The function at "module:function", imported on its first call: a stage's module (the
    kubernetes client, pyinfra) is loaded when the stage runs, not when `fab` starts."""
    module, _, name = where.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__qualname__ = call.__name__ = where
    return call


def _always(ctx: RunContext) -> bool:
    return True


def installs_kubernetes(ctx: RunContext) -> bool:
    """When a stage that talks to Kubernetes applies (also the notebook's later sections)."""
    return ctx.installs_kubernetes


@dataclass(frozen=True)
class Stage:
    name: str
    # (context, dry) -> the outcome for the timings table when not plainly "ok"/"dry"
    # (the cluster stage's "unchanged")
    run: Callable[[RunContext, bool], str | None]
    applies: Callable[[RunContext], bool] = _always
    skipped_because: str = ""  # said when `applies` is false; {target} is filled in


NO_KUBERNETES = "{target}'s cluster stage installs no Kubernetes"

_deploy = _lazy("gourmetops.pyinfra_run:deploy")

STAGES: tuple[Stage, ...] = (
    Stage("prepare", partial(_deploy, name="prepare")),
    Stage("kubespray", partial(_deploy, name="kubespray")),
    Stage("cluster", _lazy("gourmetops.kubespray.stage:cluster_unless_unchanged")),
    Stage(
        "kubeconfig", _lazy("gourmetops.app.kubeconfig:fetch"), installs_kubernetes, NO_KUBERNETES
    ),
    Stage("registry", partial(_deploy, name="registry")),
    Stage("image", _lazy("gourmetops.registry.stage:image")),
    Stage("rollout", _lazy("gourmetops.app.api:rollout"), installs_kubernetes, NO_KUBERNETES),
)


@dataclass
class Timing:
    stage: str
    seconds: float | None  # None: not run
    outcome: str  # ok, dry, skipped, failed, not reached


def _position(stage: Stage, stages: tuple[Stage, ...]) -> str:
    """ "3/7": counted in the whole list, so a slice (--from/--to) says where it is."""
    whole = STAGES if stage in STAGES else stages
    return f"{whole.index(stage) + 1}/{len(whole)}"


def run_all(ctx: RunContext, dry: bool, stages: tuple[Stage, ...] = STAGES) -> list[Timing]:
    """Every stage in order; the first failure stops the walk (after the table)."""
    timings: list[Timing] = []
    try:
        for stage in stages:
            head = f"==> stage {_position(stage, stages)}: {stage.name}"
            if not stage.applies(ctx):
                why = stage.skipped_because.format(target=ctx.name)
                say(f"{head}: skipped, {why}")
                timings.append(Timing(stage.name, None, "skipped"))
                continue
            say(f"{head}{' (dry run)' if dry else ''}")
            started = time.monotonic()
            try:
                outcome = stage.run(ctx, dry)
            except BaseException:
                timings.append(Timing(stage.name, time.monotonic() - started, "failed"))
                raise
            outcome = outcome or ("dry" if dry else "ok")
            timings.append(Timing(stage.name, time.monotonic() - started, outcome))
    finally:
        done = {t.stage for t in timings}
        timings += [Timing(s.name, None, "not reached") for s in stages if s.name not in done]
        say(table(ctx.name, timings))
    return timings


def select(first: str | None = None, last: str | None = None) -> tuple[Stage, ...]:
    """The stages from `first` to `last` (`fab up --from/--to`), in the list's order."""
    names = [s.name for s in STAGES]
    for flag, name in (("--from", first), ("--to", last)):
        if name is not None and name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"{flag} {name!r}: not a stage{hint} (stages: {', '.join(names)})")
    start = names.index(first) if first else 0
    end = names.index(last) if last else len(names) - 1
    if start > end:
        raise InputError(
            f"--from {first} comes after --to {last}: stages run in the order {', '.join(names)}"
        )
    return STAGES[start : end + 1]


REDO = ("cluster",)  # the stages `fab up` skips when unchanged (`--redo` runs them anyway)


def check_redo(names: Iterable[str]) -> frozenset[str]:
    for name in names:
        if name not in REDO:
            raise InputError(
                f"--redo {name!r}: only {', '.join(REDO)} is skipped when unchanged; "
                "every other stage runs each time and changes only what differs"
            )
    return frozenset(names)


def run_on(
    target: str,
    task: str,
    dry: bool,
    stages: tuple[Stage, ...] = STAGES,
    skip_checks: Iterable[str] | None = None,
    redo: Iterable[str] = (),
    retries: int | None = None,
) -> list[Timing]:
    """`fab up` (and each section of the notebook): for the lab, start it first, or in a dry
    run on a stopped lab say so and stop; then, unless `skip_checks` is None, the pre-checks
    (those named in it let through) when the cluster stage is among `stages` (they check
    what kubespray's install needs); then the stages under the target's lock and log (the
    cluster stage rerun `retries` times, None: the target's cluster_retries); after
    all of STAGES, what now runs and the next command (gourmetops.next_steps)."""
    from gourmetops import lab as labmod  # local: pyinfra and the lab, at run time only
    from gourmetops.run import changing

    asked = check_redo(redo)
    if target == "lab" and dry and labmod.status().state != "running":
        say("lab is not running: a real run would start it; dry run stops here")
        return []
    with changing(target, task, dry) as ctx:
        ctx.redo, ctx.retries = asked, retries
        if target == "lab" and not dry:
            labmod.up()
        if skip_checks is not None and "cluster" not in {s.name for s in stages}:
            say("==> pre-checks: skipped, they check what the cluster stage needs")
        elif skip_checks is not None:
            _pre_checks(ctx, skip_checks, [s.name for s in stages if s.applies(ctx)], dry)
        timings = run_all(ctx, dry, stages)
        if tuple(stages) == STAGES and not dry:  # every stage went through: say what runs
            from gourmetops.next_steps import next_steps

            say(next_steps(ctx))
        return timings


def _pre_checks(ctx: RunContext, skip_checks: Iterable[str], names: list[str], dry: bool) -> None:
    """Read-only, before any stage: a failure no stage fixes stops here (dry too). They
    check what the cluster stage's playbook needs, so while node1's record shows that stage
    unchanged they wait for it, and run just before it if a stage changed that after all."""
    from gourmetops.check.gate import pre_checks
    from gourmetops.kubespray.stage import looks_unchanged

    if not looks_unchanged(ctx):
        say("==> pre-checks")
        pre_checks(ctx, skip_checks, names, dry)
        return
    say(
        "==> pre-checks: not yet: node1's record shows the cluster stage unchanged; they run "
        "before it if it runs"
    )
    rest = names[names.index("cluster") :]

    def deferred() -> None:
        ctx.deferred_checks = None
        say("==> pre-checks (the cluster stage runs after all)")
        pre_checks(ctx, skip_checks, rest, dry)

    ctx.deferred_checks = deferred


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
