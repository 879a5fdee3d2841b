"""A tree the benchmarks run side by side with this checkout (benchmarks/reference_tree.py)
imports its own modules only: a module it lacks is not found, rather than taken from this
checkout through the editable install's finder (which measured our code twice once)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.noop_vs_ref import imports_its_own_code
from benchmarks.reference_tree import env_for

PROBE = "import gourmetops.pyinfra_main as m; print(m.__file__)"  # in this checkout only


@pytest.fixture
def old_tree(tmp_path: Path) -> Path:
    """A tree whose package has no pyinfra_main module, as a commit before it had none."""
    (tmp_path / "gourmetops").mkdir()
    (tmp_path / "gourmetops" / "__init__.py").write_text("")
    return tmp_path


def _probe(tree: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tree, env=env, capture_output=True, text=True
    )


def test_a_module_the_tree_lacks_is_not_taken_from_this_checkout(old_tree):
    leaky = {**os.environ, "PYTHONPATH": str(old_tree)}
    assert _probe(old_tree, leaky).returncode == 0  # the leak the isolation closes
    isolated = _probe(old_tree, env_for(old_tree))
    assert (
        isolated.returncode == 1 and "No module named 'gourmetops.pyinfra_main'" in isolated.stderr
    )
    imports_its_own_code(old_tree)  # passes: the tree's package, no editable finder left


def test_a_tree_that_would_import_this_checkout_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="not that tree's code"):
        imports_its_own_code(tmp_path)  # no package there: this checkout's would be imported
