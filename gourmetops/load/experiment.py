"""The tutorial's three stress tests as one bounded, recorded experiment:

1 replica and a load test; 6 replicas and a load test; back to 1 replica with the HPA
(min 2, max 6, CPU 50%), a load test, a sampled pause, a second load test; then a bounded
watch until the HPA has scaled back down. Every load run has a fixed duration and
concurrency, every wait a timeout; the pause and the watch are derived from the cluster's
defaults (load/timing.py) unless given, and the report sets the observed times against
them. Results go to a timestamped directory with the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from gourmetops.app import stage as app_stage
from gourmetops.app.kube import Kube
from gourmetops.load import report
from gourmetops.load.app_record import recorded_app
from gourmetops.load.loadtest import LoadRun, ensure_siege, install_command, sampler
from gourmetops.load.loadtest import run as run_load
from gourmetops.load.results import Experiment
from gourmetops.load.scale_down_watch import ScaleDownWatch
from gourmetops.load.timeline import judge
from gourmetops.load.timing import Timing
from gourmetops.output import say
from gourmetops.safe_write import ensure_dir, write_text

Objects = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Plan:
    url: str
    concurrency: int = 10
    duration: int = 30  # seconds per load test
    # Between the two autoscaling load tests (the tutorial: "wait a few minutes"); None:
    # until the first run's scale-up is ready (Timing.pause_after).
    pause: float | None = None
    sample_every: float = 5.0
    rollout_timeout: float = 300.0
    # None: the stabilisation window and the lags around it (Timing.scale_down_timeout).
    scale_down_timeout: float | None = None

    def waits(self, timing: Timing) -> tuple[float, float]:
        """The pause and the scale-down watch's timeout: as given, else from `timing`."""
        pause = timing.pause_after(self.duration) if self.pause is None else self.pause
        down = self.scale_down_timeout
        return pause, timing.scale_down_timeout(self.sample_every) if down is None else down


def hpa_label(hpa_spec: dict[str, Any]) -> str:
    """The autoscaling scenarios' name, from the HPA they run under."""
    cpu = hpa_spec["metrics"][0]["resource"]["target"]["averageUtilization"]
    return f"autoscaling ({hpa_spec['minReplicas']}-{hpa_spec['maxReplicas']}, CPU {cpu}%)"


@dataclass(frozen=True)
class Step:
    """One step of the experiment: what the dry run prints, and what the real run does
    (given the live run, which a dry run never builds)."""

    says: str
    act: Callable[[Live], None]


@dataclass
class Live:
    """What the steps act on: the cluster, node1's connection, and the results so far."""

    kube: Kube
    conn: Any
    plan: Plan
    objects_for: Callable[..., Objects]
    out_dir: Path
    echo: Callable[[str], None]
    stop_remote: Callable[[], None] | None
    secret: dict[str, Any] | None
    # siege's runner: load/loadtest.run, or in tests a stand-in on a simulated clock
    siege: Callable[..., LoadRun] = run_load
    data: dict[str, Any] = field(default_factory=dict)
    t0: float = 0.0  # the experiment's start on the cluster's clock

    def now(self) -> float:
        """Seconds since the experiment's start, on the clock the cluster's waits use."""
        return round(self.kube.clock.now() - self.t0, 1)

    @cached_property
    def base(self) -> Objects:
        """The objects at their defaults: what the samples read."""
        return self.objects_for()

    def load(self, name: str) -> None:
        """One siege run, sampled, recorded in experiment.json at once."""
        self.echo(f"==> scenario: {name}")
        plan = self.plan
        started = self.now()
        done = self.siege(
            self.conn,
            LoadRun(plan.url, plan.concurrency, plan.duration),
            sampler(self.kube, self.base),
            every=plan.sample_every,
            echo=self.echo,
            stop_remote=self.stop_remote,
        )
        assert done.result is not None
        self.data["scenarios"].append(
            {
                "name": name,
                "started": started,
                "result": done.result.as_dict(),
                "samples": done.samples,
                "siege_stderr_tail": done.stderr.splitlines()[-20:],
            }
        )
        self.save()
        r = done.result
        self.echo(
            f"    {r.transactions} transactions, {r.transaction_rate}/s, "
            f"mean {r.response_time}s, failed {r.failed_transactions}"
        )

    def save(self) -> None:
        """experiment.json as load/results.py's model takes it (the report reads the same)."""
        checked = Experiment.model_validate(self.data)
        text = checked.model_dump_json(indent=2, exclude_unset=True)
        write_text(self.out_dir / "experiment.json", text, "experiment results")


def steps(plan: Plan, objects_for: Callable[..., Objects], node: str) -> list[Step]:
    """The experiment, step by step, from the objects it applies: `fab experiment --dry`
    prints the steps' words and a real run acts them, from this one list."""
    one, six = objects_for(replicas=1), objects_for(replicas=6)
    dep = one["deployment"]["metadata"]
    hpa_obj = one["hpa"]
    hpa = hpa_obj["spec"]
    label = hpa_label(hpa)
    timing = Timing.from_objects(one)
    pause, down_timeout = plan.waits(timing)
    siege = (
        f"siege on {node}, {plan.concurrency} concurrent users for {plan.duration}s "
        f"against {plan.url}, replicas and pod CPU/memory sampled every {plan.sample_every:g}s"
    )
    rollout = f"wait at most {plan.rollout_timeout:.0f}s for the rollout"
    cpu = hpa["metrics"][0]["resource"]["target"]["averageUtilization"]
    minimum = hpa["minReplicas"]
    return [
        Step(_expected(timing), lambda live: None),
        Step(
            f"siege installed on {node} if missing: {install_command()}",
            lambda live: ensure_siege(live.conn),
        ),
        Step(f"HPA {hpa_obj['metadata']['name']} deleted first if present", partial(_hpa_off, one)),
        Step(
            f"1. Deployment {dep['namespace']}/{dep['name']} at "
            f"{one['deployment']['spec']['replicas']} replica ({rollout}); "
            f"load test '1 replica': {siege}",
            partial(_one_replica, one),
        ),
        Step(
            f"2. scaled to {six['deployment']['spec']['replicas']} replicas ({rollout}); "
            f"load test '6 replicas': {siege}",
            partial(_six_replicas, six),
        ),
        Step(
            f"3. back to {one['deployment']['spec']['replicas']} replica with HPA "
            f"{hpa_obj['metadata']['name']} (min {minimum}, max "
            f"{hpa['maxReplicas']}, CPU {cpu}%), replica count handed over to it ({rollout}); "
            f"load test '{label}, first run': {siege}",
            partial(_autoscaled, one, f"{label}, first run"),
        ),
        Step(
            f"4. pause {pause:g}s{'' if plan.pause is not None else ' (until a scale-up is ready)'}"
            f", replicas sampled every {plan.sample_every:g}s; "
            f"load test '{label}, second run': {siege}",
            partial(_pause_then_load, pause, f"{label}, second run"),
        ),
        Step(
            f"5. watch the HPA scale back to {minimum}, a sample every "
            f"{plan.sample_every:g}s for at most {down_timeout:.0f}s (a scale-down "
            f"counts only after replicas were seen above {minimum}); the times observed "
            "set against the expected ones",
            lambda live: _watch_scale_down(live, hpa, label, down_timeout, timing),
        ),
    ]


def _expected(timing: Timing) -> str:
    return (
        f"timing from the cluster's defaults ({timing.describe()}): a scale-up expected "
        f"ready within {timing.scale_up_within:g}s of an autoscaling load test's start, "
        f"the minimum again {timing.scale_down_from:g}-"
        f"{timing.scale_down_within:g}s after the last load test's end"
    )


def _hpa_off(one: Objects, live: Live) -> None:
    if live.kube.live(one["hpa"]) is not None:
        app_stage.autoscale_off(live.kube, one, False, live.echo)


def _one_replica(one: Objects, live: Live) -> None:
    app_stage.rollout(live.kube, one, live.plan.rollout_timeout, False, live.echo, live.secret)
    live.load("1 replica")


def _six_replicas(six: Objects, live: Live) -> None:
    app_stage.scale(live.kube, six, live.plan.rollout_timeout, False, live.echo)
    live.load("6 replicas")


def _autoscaled(one: Objects, name: str, live: Live) -> None:
    app_stage.autoscale(live.kube, one, live.plan.rollout_timeout, False, live.echo)
    live.load(name)


def _pause_then_load(pause: float, name: str, live: Live) -> None:
    live.echo(f"==> pause {pause:.0f}s")
    live.data["pause"] = {"started": live.now(), "samples": _sampled(live, pause, lambda _: False)}
    live.save()
    live.load(name)


def _sampled(
    live: Live, longest: float, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Samples every plan.sample_every seconds on the cluster's clock (the wall clock for
    users, the stand-in's modelled time in tests), until `done(sample)` or `longest` s."""
    sample, clock = sampler(live.kube, live.base), live.kube.clock
    started, samples = clock.now(), []
    while True:
        point = {"t": round(clock.now() - started, 1), **sample()}
        samples.append(point)
        if done(point) or point["t"] >= longest:
            return samples
        clock.sleep(min(live.plan.sample_every, longest - point["t"]))


def describe(plan: Plan, objects_for: Callable[..., Objects], node: str) -> list[str]:
    """What `run` would do (the dry run): the steps' words, and the siege command."""
    load = LoadRun(plan.url, plan.concurrency, plan.duration)
    said = [step.says for step in steps(plan, objects_for, node)]
    return [*said, f"each siege run on {node}: {load.command()}"]


def _watch_scale_down(
    live: Live, hpa: dict[str, Any], label: str, timeout: float, timing: Timing
) -> None:
    live.echo(f"==> watching the HPA scale back to {hpa['minReplicas']} (at most {timeout:.0f}s)")
    watch = ScaleDownWatch(minimum=hpa["minReplicas"], timeout=timeout)
    # A scale-up seen while the load ran or in the pause counts: the watch starts after it.
    before = [s for s in live.data["scenarios"] if s["name"].startswith(label)]
    watch.peak = max(
        (x.get("replicas") or 0 for r in [*before, live.data.get("pause") or {}]
         for x in r.get("samples", [])),
        default=0,
    )  # fmt: skip
    started = live.now()
    _sampled(live, timeout, watch.observe)
    live.data["scale_down"] = {"started": started, **watch.result()}
    live.echo(f"    {report.scale_down_summary(live.data['scale_down'])}")
    live.data["timing"] = judge(live.data, timing, live.plan.sample_every)
    for line in report.timing_lines(live.data["timing"]):
        live.echo(f"    {line}")
    live.save()


def run(
    kube: Kube,
    conn: Any,
    objects_for: Callable[..., Objects],
    plan: Plan,
    out_dir: Path,
    echo: Callable[[str], None] = say,
    stop_remote: Callable[[], None] | None = None,
    secret: dict[str, Any] | None = None,
    siege: Callable[..., LoadRun] = run_load,
) -> Path:
    """Every step of `steps`, each announced with the words the dry run prints; returns the
    report's path (experiment.json beside it). `secret` is the registry pull Secret when the
    registry has auth on."""
    ensure_dir(out_dir, "results directory")
    live = Live(kube, conn, plan, objects_for, out_dir, echo, stop_remote, secret, siege)
    live.t0 = kube.clock.now()
    live.data = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "url": plan.url,
        "concurrency": plan.concurrency,
        "duration": plan.duration,
        "scenarios": [],
        "app": recorded_app(objects_for(replicas=1)),  # what the plots draw against
    }
    for step in steps(plan, objects_for, conn.original_host):
        echo(f"==> step: {step.says}")
        step.act(live)
    return report.render(out_dir)
