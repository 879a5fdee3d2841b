"""Another commit of this repository checked out beside this one for a side-by-side run:
a temporary `git worktree`, run by the same venv with cwd and PYTHONPATH set to it, and
sharing this checkout's `.state` and `.lab` (the lab's keys, pinned host keys and state),
so that both trees reach the same running lab nodes."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gourmetops import FIXTURES_DIR  # noqa: E402

ISOLATED = Path(__file__).resolve().parent / "isolated"  # its sitecustomize.py


def env_for(tree: Path) -> dict[str, str]:
    """Run from `tree` and its modules only (the editable install's finder dropped by
    isolated/sitecustomize.py), with this checkout's offline mirror (a worktree in /tmp has
    no ../shared beside it)."""
    return {
        **os.environ,
        "PYTHONPATH": f"{ISOLATED}{os.pathsep}{tree}",
        "GOURMETOPS_FIXTURES": str(FIXTURES_DIR),
    }


@contextmanager
def reference_tree(ref: str, share_lab: bool = False) -> Iterator[tuple[str, Path]]:
    """(short hash, path) of `ref` checked out; removed afterwards."""
    rev = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-ref-") as tmp:
        tree = Path(tmp) / "ref"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(tree), rev], cwd=ROOT, check=True
        )
        try:
            if share_lab:
                for name in (".state", ".lab"):
                    (tree / name).symlink_to(ROOT / name)
            yield rev, tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)


def children_cpu() -> float:
    """CPU seconds (user + system) used so far by this process's finished children."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def rounds_and_ref(doc: str, deploy: bool = False) -> argparse.Namespace:
    """The command line of a side-by-side benchmark: `[ROUNDS] [--ref REV]`, and with
    `deploy` a `--deploy NAME` (a file of deploys/, default prepare)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("rounds", nargs="?", type=int, default=10)
    parser.add_argument("--ref", default="main", help="the reference commit (default: main)")
    if deploy:
        parser.add_argument(
            "--deploy", default="prepare", help="deploys/NAME.py (default: prepare)"
        )
    return parser.parse_args()


def summary(times: list[float]) -> str:
    """mean | min | max, for a table row."""
    return f"{statistics.mean(times):.3f} | {min(times):.3f} | {max(times):.3f}"
