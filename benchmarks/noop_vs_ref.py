"""Benchmark: a pyinfra stage's no-op rerun, this tree against a reference commit, side by
side on the same converged lab nodes (alternating, the order flipped every round).

    sudo .venv/bin/python benchmarks/noop_vs_ref.py [ROUNDS] --ref REV [--deploy prepare]

Each run is what `fab <deploy>` runs (`python -m pyinfra inventories/lab.py
deploys/<deploy>.py -y`), from its own tree (benchmarks/reference_tree.py), and must report
no change. Before timing, this tree's run converges the nodes, and the reference's first run
must change nothing either: both trees agree on the state, or the comparison means nothing.
Needs the lab running (root), converged by `fab up` for a later stage. docs/benchmarks.md
records a run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.prepare_vs_ansible import _pyinfra_changes  # noqa: E402
from benchmarks.reference_tree import (  # noqa: E402
    ROOT,
    children_cpu,
    env_for,
    reference_tree,
    rounds_and_ref,
    summary,
)
from gourmetops.pyinfra_run import pyinfra_command  # noqa: E402


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds of one pyinfra run that must succeed, and its Success
    column ("-" when nothing changed); also used by pyinfra_launcher.py."""
    start, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    elapsed, cpu = time.perf_counter() - start, children_cpu() - cpu
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} in {cwd} failed:\n{proc.stdout[-3000:]}")
    return elapsed, cpu, _pyinfra_changes(proc.stdout)


def run(tree: Path, deploy: str) -> tuple[float, float, str]:
    """One run of `deploy` from `tree`, as `fab` runs it."""
    return timed(pyinfra_command("lab", deploy), tree, env_for(tree))


EDITABLE = "str(getattr(f, '__module__', '')).startswith('__editable__')"


def imports_its_own_code(tree: Path) -> None:
    """The package comes from `tree`, and no finder is left that would supply a module the
    tree lacks from this checkout (reference_tree.env_for drops the editable install's)."""
    found = f"any({EDITABLE} for f in sys.meta_path)"
    code = f"import sys, gourmetops; print(gourmetops.__file__, {found})"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env_for(tree), capture_output=True, text=True
    ).stdout.split()
    if len(out) != 2 or Path(out[0]).resolve().parent.parent != tree.resolve():
        raise SystemExit(f"from {tree} the deploy would import {out[:1]}, not that tree's code")
    if out[1] != "False":
        raise SystemExit(f"from {tree} a module the tree lacks would come from {ROOT}")


def main(rounds: int, ref: str, deploy: str) -> None:
    with reference_tree(ref, share_lab=True) as (rev, worktree):
        trees = {"ours": ROOT, f"reference {rev}": worktree}
        for tree in trees.values():
            imports_its_own_code(tree)
        run(ROOT, deploy)  # converge the nodes
        for side, tree in trees.items():
            if run(tree, deploy)[2] != "-":
                raise SystemExit(f"{side}: a rerun after ours changed something")
        wall: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        for i in range(rounds):
            for side, tree in list(trees.items())[:: 1 if i % 2 == 0 else -1]:
                took, used, changed = run(tree, deploy)
                if changed != "-":
                    raise SystemExit(f"{side}: a no-op rerun changed something")
                wall.setdefault(side, []).append(took)
                cpu.setdefault(side, []).append(used)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{rounds} rounds, load average {load}, {time.strftime('%Y-%m-%d %H:%M')}\n")
    print(f"| {deploy}, no-op rerun | mean (s) | min | max | CPU mean (s) |")
    print("|---|---|---|---|---|")
    for side in trees:
        print(f"| {side} | {summary(wall[side])} | {statistics.mean(cpu[side]):.3f} |")
    ours, theirs = (statistics.mean(wall[side]) for side in trees)
    print(f"\nours / reference (means): {ours / theirs:.2f}")


if __name__ == "__main__":
    args = rounds_and_ref(__doc__, deploy=True)
    main(args.rounds, args.ref, args.deploy)
