"""The load stages: one siege run (`fab loadtest`) and the tutorial's three stress tests as
one experiment (`fab experiment`), from node1 against the Service, pods sampled where the
target runs Kubernetes; results saved under .state/<target>/results/."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gourmetops.app.api import cluster_api, objects_for
from gourmetops.app.manifests import pull_secret_for
from gourmetops.context import RunContext
from gourmetops.errors import StageFailed
from gourmetops.load import experiment as experiment_mod
from gourmetops.load.loadtest import (
    SAMPLE_EVERY,
    Interrupted,
    LoadRun,
    describe,
    ensure_siege,
    run,
    sampler,
    stop_command,
)
from gourmetops.output import say
from gourmetops.safe_write import write_text


def _stopper(ctx: RunContext) -> Callable[[], None]:
    """Ctrl-C here stops siege on node1 too (it would otherwise run to its end)."""
    argv = ctx.target.ssh_argv(ctx.head, stop_command())

    def stop() -> None:
        subprocess.run(argv, capture_output=True, timeout=30)

    return stop


@contextmanager
def _interruptible() -> Iterator[None]:
    try:
        yield
    except Interrupted as exc:
        r = exc.load.result
        so_far = f"{r.transactions} transactions ({r.elapsed_time}s)" if r else "no summary"
        raise StageFailed(
            f"interrupted; siege stopped on the node after {so_far}",
            130,
        ) from None


def _stamped(ctx: RunContext, kind: str, suffix: str = "") -> Path:
    return ctx.state_dir / "results" / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}"


def save(load: LoadRun, path: Path) -> Path:
    """The run's parameters, parsed summary, samples and siege's raw output as JSON."""
    assert load.result is not None
    record = {
        "url": load.url,
        "concurrency": load.concurrency,
        "duration": load.duration,
        "result": load.result.as_dict(),
        "samples": load.samples,
        "siege_stdout": load.stdout,
        "siege_stderr": load.stderr,
    }
    write_text(path, json.dumps(record, indent=2), "load test results")
    return path


def loadtest(ctx: RunContext, load: LoadRun, port: int, dry: bool) -> None:
    load.command()  # checks the parameters before connecting
    if dry:
        sampled = None
        if ctx.installs_kubernetes:
            sampled = (
                f"replicas and pod CPU/memory every {SAMPLE_EVERY:g}s through the API tunnel "
                f"(port {port})"
            )
        results = ctx.state_dir / "results" / "loadtest-<YYYYmmdd-HHMMSS>.json"
        say("would run " + "\n".join(describe(load, ctx.head, sampled, str(results))))
        return
    conn = ctx.connect()
    ensure_siege(conn)
    with _interruptible():
        if ctx.installs_kubernetes:
            objects = objects_for(ctx)
            with cluster_api(ctx, port) as kube:
                run(conn, load, sampler(kube, objects), stop_remote=_stopper(ctx))
        else:
            say(f"(no Kubernetes on {ctx.name}: siege only, no pod samples)")
            run(conn, load, stop_remote=_stopper(ctx))
    out = save(load, _stamped(ctx, "loadtest", ".json"))
    r = load.result
    assert r is not None
    say(
        f"transactions {r.transactions} ({r.transaction_rate}/s), mean response "
        f"{r.response_time}s, failed {r.failed_transactions} "
        f"(connection refused {r.connection_refused}), availability {r.availability}%\n"
        f"saved: {out}"
    )


def experiment(ctx: RunContext, plan: experiment_mod.Plan, port: int, dry: bool) -> None:
    """The whole plan (every scenario's objects, each siege command) is built and checked
    first, so a bad parameter stops the run before its first change."""
    no_kubernetes = f"{ctx.name} runs no Kubernetes: nothing to experiment on"
    if not dry and not ctx.installs_kubernetes:
        raise StageFailed(no_kubernetes)

    def objects(**overrides: Any) -> dict[str, dict[str, Any]]:
        return objects_for(ctx, dry, **overrides)

    steps = experiment_mod.describe(plan, objects, ctx.head)
    if dry:
        results = ctx.state_dir / "results" / "experiment-<YYYYmmdd-HHMMSS>"
        say("would run, in order:\n  " + "\n  ".join(steps))
        say(f"  results, report.md and plots in {results}")
        if not ctx.installs_kubernetes:
            raise StageFailed(f"{no_kubernetes} (a real run stops here, before step 1)")
        return
    conn = ctx.connect()
    out = _stamped(ctx, "experiment")
    with cluster_api(ctx, port) as kube, _interruptible():
        secret = pull_secret_for(ctx.settings)
        path = experiment_mod.run(
            kube, conn, objects, plan, out, stop_remote=_stopper(ctx), secret=secret
        )
    say(f"report: {path}")
