"""Benchmark: how long `fab` takes to start, this tree against a reference commit, side by
side in one run (alternating, the order flipped every round), because this machine is noisy.

    .venv/bin/python benchmarks/startup.py [ROUNDS] [--ref REV]     # default 10 rounds, main

The reference is checked out into a temporary `git worktree` and run by the same venv
(its `fab`, its interpreter) with cwd and PYTHONPATH set to that worktree; which `tasks` and
`gourmetops` each case imports on each side is checked before anything is timed. Measured, per tree:

- `fab --list` and `fab --help rollout`: the whole process, wall clock;
- `fab prepare` up to its first connection: in one process what `fab prepare --dry` does
  before pyinfra is started (Fabric's CLI and the tasks imported, the run's context for the
  lab built from cluster.yaml, the deploy runner imported); no host is contacted;
- `import tasks` alone;
- what each stage's pyinfra process does before it connects: pyinfra's CLI imported and
  `inventories/lab.py` run (group_data checked, the groups built).

Each as wall-clock time and as CPU time (user + system, the child's own): on a busy machine
the wall clock also counts waiting for a CPU, the CPU time much less so.

Needs no lab and no root; contacts nothing. Writes the table to stdout; docs/benchmarks.md
records a run.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.reference_tree import (  # noqa: E402
    ROOT,
    children_cpu,
    env_for,
    reference_tree,
    rounds_and_ref,
    summary,
)

BIN = Path(sys.executable).parent  # the venv's bin: `fab` and `python` of the same venv
PYTHON = str(BIN / "python")

TO_FIRST_CONNECTION = (
    "import fabric.main, tasks; from gourmetops.context import RunContext; "
    "RunContext('lab'); import gourmetops.pyinfra_run"
)
# What the pyinfra process each stage starts does before "Connecting to hosts": its CLI
# imported, then our inventory run (group_data checked, the target's groups built).
PYINFRA_TO_FIRST_CONNECTION = "import pyinfra_cli.main, runpy; runpy.run_path('inventories/lab.py')"
CASES = {
    "fab --list": [str(BIN / "fab"), "--list"],
    "fab --help rollout": [str(BIN / "fab"), "--help", "rollout"],
    "fab prepare, to its first connection": [PYTHON, "-c", TO_FIRST_CONNECTION],
    "import tasks": [PYTHON, "-c", "import tasks"],
    "pyinfra + inventory, to its first connection": [PYTHON, "-c", PYINFRA_TO_FIRST_CONNECTION],
}


def run(cmd: list[str], tree: Path, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (user + system) of one run, and its output."""
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(cmd, cwd=tree, env=env or env_for(tree), capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, children_cpu() - cpu
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} in {tree} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return elapsed, cpu, proc.stdout + proc.stderr


def check_imports(tree: Path) -> None:
    """Every case run in `tree` imports that tree's `tasks` and `gourmetops` (python -v's notes
    on where each module came from), not the venv's editable install of another checkout."""
    for case, cmd in CASES.items():
        notes = run(cmd, tree, {**env_for(tree), "PYTHONVERBOSE": "1"})[2]
        found = set(re.findall(r"(/\S+?)/(tasks|gourmetops)/__init__\.py", notes))
        wanted = {"gourmetops"} if case.startswith("pyinfra") else {"tasks", "gourmetops"}
        if {pkg for _, pkg in found} != wanted or {Path(d).resolve() for d, _ in found} != {
            tree.resolve()
        }:
            raise SystemExit(f"{case} in {tree} imports {sorted(found)}, not that tree's code")


def main(rounds: int, ref: str) -> None:
    with reference_tree(ref) as (rev, worktree):
        trees = {"ours": ROOT, f"reference {rev}": worktree}
        for tree in trees.values():
            check_imports(tree)
        lists = {run(CASES["fab --list"], tree)[2] for tree in trees.values()}  # warm-up
        if len(lists) != 1:
            print("warning: `fab --list` differs between the trees", file=sys.stderr)
        wall: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for i in range(rounds):
            order = list(trees.items())[:: 1 if i % 2 == 0 else -1]
            for case, cmd in CASES.items():
                for side, tree in order:
                    took, used, _ = run(cmd, tree)
                    wall.setdefault((case, side), []).append(took)
                    cpu.setdefault((case, side), []).append(used)
    ours, reference = trees
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{rounds} rounds, {os.cpu_count()} CPUs, load average {load}, {time.strftime('%Y-%m-%d')}"
    )
    for title, times in (("wall clock", wall), ("CPU, user + system", cpu)):
        print(f"\n{title} (s):\n")
        print(
            f"| run | {ours}: mean | min | max | {reference}: mean | min | max | ratio of means |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for case in CASES:
            mine, theirs = times[case, ours], times[case, reference]
            ratio = statistics.mean(mine) / statistics.mean(theirs)
            print(f"| {case} | {summary(mine)} | {summary(theirs)} | {ratio:.2f} |")


if __name__ == "__main__":
    args = rounds_and_ref(__doc__)
    main(args.rounds, args.ref)
