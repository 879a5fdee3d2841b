"""The tutorial's stress tests: one siege run, the three-scenario experiment (1 replica,
6 replicas, autoscaling), and its report redrawn from saved results."""

from __future__ import annotations

from pathlib import Path

from gourmetops import flags
from gourmetops.app.kubeconfig import DEFAULT_LOCAL_PORT
from tasks.common import KUBE_HELP, TARGET_HELP, gtask

# The stages' modules are imported in the tasks that run them, not here: they pull in
# pyinfra, pydantic and the kubernetes client, which `fab --list` and `--help` never use.

URL_HELP = "what to load (default: http://<Service external IP>/test)"


@gtask(
    help={
        "target": TARGET_HELP["target"],
        "concurrency": "simultaneous users (siege -c; default 10, as the tutorial)",
        "duration": "how long: 30s, 2m ... (siege -t; default 30s)",
        "url": URL_HELP,
        "port": KUBE_HELP["port"],
        "dry": "print the siege run (node, command, URL, length, users), run and install nothing",
    }
)
def loadtest(c, target=None, concurrency=None, duration=None, url=None, port=None, dry=False):
    """siege from node1 against the service, pod CPU/memory and replicas sampled meanwhile."""
    from gourmetops.load import stage as load_stage
    from gourmetops.load.loadtest import LoadRun, duration_seconds
    from gourmetops.run import changing

    port = flags.port("port", port, DEFAULT_LOCAL_PORT)
    url = flags.url("url", url)
    concurrency = flags.whole("concurrency", concurrency, default=10, minimum=1, maximum=10000)
    seconds = duration_seconds(duration or "30s")
    with changing(target, "loadtest", dry) as ctx:
        load = LoadRun(url or f"http://{ctx.target.external_ip()}/test", concurrency, seconds)
        load_stage.loadtest(ctx, load, port, dry)


@gtask(
    help={
        "target": TARGET_HELP["target"],
        "concurrency": "simultaneous users per load test (default 10)",
        "duration": "each load test's length (default 30s)",
        "pause": "seconds between the two autoscaling load tests (default: until the first "
        "run's scale-up is ready, from the cluster's defaults: 40 for the tutorial's app)",
        "scale_down_timeout": "longest wait for the HPA to scale back down (default: its "
        "stabilisation window and the lags around it: 355 for the tutorial's HPA)",
        "url": URL_HELP,
        "port": KUBE_HELP["port"],
        "dry": "print the scenario plan (replicas, HPA, siege runs, waits), run nothing",
    }
)
def experiment(
    c,
    target=None,
    concurrency=None,
    duration=None,
    pause=None,
    scale_down_timeout=None,
    url=None,
    port=None,
    dry=False,
):
    """1 replica vs 6 replicas vs autoscaling under siege: results, report and plots."""
    from gourmetops.load import stage as load_stage
    from gourmetops.load.experiment import Plan
    from gourmetops.load.loadtest import duration_seconds
    from gourmetops.run import changing

    port = flags.port("port", port, DEFAULT_LOCAL_PORT)
    url = flags.url("url", url)
    concurrency = flags.whole("concurrency", concurrency, default=10, minimum=1, maximum=10000)
    seconds = duration_seconds(duration or "30s")
    pause_s = None if pause is None else flags.seconds("pause", pause, 0)
    watch_s = (
        None
        if scale_down_timeout is None
        else flags.seconds("scale_down_timeout", scale_down_timeout, 0, minimum=1)
    )
    with changing(target, "experiment", dry) as ctx:
        plan = Plan(
            url=url or f"http://{ctx.target.external_ip()}/test",
            concurrency=concurrency,
            duration=seconds,
            pause=pause_s,
            scale_down_timeout=watch_s,
        )
        load_stage.experiment(ctx, plan, port, dry)


@gtask(help={"results_dir": "a directory with experiment.json (from fab experiment)"})
def report(c, results_dir):
    """Render report.md with its side-by-side table and PNG plots from saved results."""
    from gourmetops.load import report as reportmod

    print(reportmod.render(Path(results_dir)))
