"""`fab` starts without the stages' dependencies: importing the tasks (what `fab --list` and
`fab --help` do) loads none of the slow packages; each stage imports its module when it runs,
so a stage named wrongly must still be caught here, not halfway through `fab up`."""

from __future__ import annotations

import importlib
import subprocess
import sys

from gourmetops import PROJECT_ROOT
from gourmetops.stages import STAGES

SLOW = ("kubernetes", "pyinfra", "pyinfra_cli", "pydantic", "ruamel", "urllib3", "matplotlib")


def loaded(code: str, among: tuple[str, ...]) -> set[str]:
    """Which of the top-level packages `among` a fresh interpreter has loaded after `code`."""
    code += f"; print(' '.join({{m.split('.')[0] for m in sys.modules}} & {set(among)!r}))"
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; {code}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_importing_the_tasks_loads_no_stage_dependency():
    assert loaded("import tasks", SLOW) == set()


def test_a_pyinfra_stage_leaves_pyinfra_to_its_own_process():
    """What `fab prepare` does before it starts pyinfra: the run's context (cluster.yaml
    checked) and the runner; pyinfra (0.2 s here) is imported by pyinfra's process alone."""
    code = "from gourmetops.context import RunContext; RunContext('lab')"
    code += "; import gourmetops.run, gourmetops.pyinfra_run"
    assert loaded(code, ("pyinfra", "pyinfra_cli", "kubernetes")) == set()


def test_every_stage_names_a_function_that_exists():
    for stage in STAGES:
        run = getattr(stage.run, "func", stage.run)  # a deploy stage is a partial
        module, _, name = run.__name__.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), stage.name
