"""The tutorial from a notebook (notebooks/deploy_on_kubernetes.ipynb): each section runs its
stages through the code `fab` runs, under the same lock and log, its progress streamed into
the cell; a stage the target cannot run says so and why, as in `fab up`; and the
experiment's report (table and plots) shown inline. Nothing here is notebook-only logic,
so what the notebook does is what the tested tasks do.

    from gourmetops import notebook
    notebook.run("chameleon", "prepare")
    notebook.report("chameleon")
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from gourmetops import STATE_DIR
from gourmetops.app import api as app_api
from gourmetops.app.kubeconfig import DEFAULT_LOCAL_PORT
from gourmetops.context import RunContext
from gourmetops.errors import InputError
from gourmetops.load import stage as load_stage
from gourmetops.load.experiment import Plan
from gourmetops.stages import NO_KUBERNETES, STAGES, Stage, Timing, installs_kubernetes, run_on
from gourmetops.targets import chosen_target


def _experiment(ctx: RunContext, dry: bool) -> None:
    """The three stress tests with `fab experiment`'s defaults, against the Service."""
    plan = Plan(url=f"http://{ctx.target.external_ip()}/test")
    load_stage.experiment(ctx, plan, DEFAULT_LOCAL_PORT, dry)


def _kubernetes(name: str, run: Callable[[RunContext, bool], None]) -> Stage:
    return Stage(name, run, installs_kubernetes, NO_KUBERNETES)


# `fab up`'s stages, then the tutorial's later sections (each also a fab task).
SECTIONS: dict[str, Stage] = {s.name: s for s in STAGES} | {
    s.name: s
    for s in (
        _kubernetes("scale", partial(app_api.scale, replicas=6)),  # the tutorial's 6
        _kubernetes("autoscale", app_api.autoscale),
        _kubernetes("experiment", _experiment),
        _kubernetes("teardown", app_api.teardown),
    )
}


def target_of(target: str | None) -> str:
    """The notebook's TARGET: as given, else GOURMETOPS_TARGET (set once for `fab` and the
    notebook alike), else "chameleon" (a notebook runs on Chameleon's JupyterHub)."""
    return chosen_target(target, fallback="chameleon")


def run(target: str | None, *names: str, dry: bool = False) -> list[Timing]:
    """Run the named stages in order on `target` ("chameleon" or "lab"; the lab is started
    first; None: `target_of`), printing a line per stage and their timings; raises on the
    first failure."""
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise InputError(f"stages {unknown or '()'}: choose from {', '.join(SECTIONS)}")
    return run_on(target_of(target), "+".join(names), dry, tuple(SECTIONS[n] for n in names))


def latest_results(target: str | None) -> Path | None:
    """The newest experiment's results directory of `target`, if any (read from .state/ as
    Target.state_dir places it, without building the target: no floating IP needed)."""
    target = target_of(target)
    runs = sorted((STATE_DIR / target / "results").glob("experiment-*/report.md"))
    return runs[-1].parent if runs else None


def _in_notebook() -> bool:
    """Whether an IPython kernel shows what we display (IPython is not a dependency)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def report(target: str | None, results_dir: Path | None = None) -> Path | None:
    """Show the experiment's report inline (its table as Markdown, its plots as images), or
    say why there is none; returns the results directory shown."""
    results = results_dir or latest_results(target)
    if results is None:
        print(
            f"no experiment results for {target_of(target)} yet: the experiment runs where "
            "Kubernetes does"
        )
        return None
    text = (results / "report.md").read_text()
    table = "\n".join(line for line in text.splitlines() if not line.startswith("!["))
    plots = sorted(results.glob("*.png"))
    if not _in_notebook():  # a plain Python session: the text, and where the plots are
        print(table, *plots, sep="\n")
        return results
    from IPython.display import Image, Markdown, display

    display(Markdown(table))
    for png in plots:
        display(Image(filename=str(png)))
    return results
