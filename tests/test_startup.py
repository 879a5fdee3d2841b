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


def test_importing_the_tasks_loads_no_stage_dependency():
    code = (
        "import sys, tasks; "
        f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & {set(SLOW)!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_every_stage_names_a_function_that_exists():
    for stage in STAGES:
        run = getattr(stage.run, "func", stage.run)  # a deploy stage is a partial
        module, _, name = run.__name__.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), stage.name
