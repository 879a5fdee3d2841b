"""Benchmark: a no-op rerun of a pyinfra stage started as `python -m pyinfra` (stock) and
as the stages start it, `python -m gourmetops.pyinfra_main` (entry points read once, no
interpreter teardown), alternating on the same converged lab nodes, the order flipped every
round.

    sudo .venv/bin/python benchmarks/pyinfra_launcher.py [ROUNDS] [--deploy prepare]

Both runs must report no change. Needs the lab running (root), converged by `fab up` for a
later stage than prepare. docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.noop_vs_ref import timed  # noqa: E402
from benchmarks.reference_tree import ROOT, summary  # noqa: E402
from gourmetops.pyinfra_run import pyinfra_command  # noqa: E402


def commands(deploy: str) -> dict[str, list[str]]:
    ours = pyinfra_command("lab", deploy)
    assert ours[1:3] == ["-m", "gourmetops.pyinfra_main"], ours
    return {"python -m pyinfra": [ours[0], "-m", "pyinfra", *ours[3:]], "launcher": ours}


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run, which must change nothing."""
    elapsed, cpu, changed = timed(cmd, ROOT)
    if changed != "-":
        raise SystemExit(f"{' '.join(cmd)}: a no-op rerun changed something ({changed})")
    return elapsed, cpu


def main(rounds: int, deploy: str) -> None:
    cmds = commands(deploy)
    subprocess.run(cmds["launcher"], cwd=ROOT, capture_output=True, check=True)  # converge
    wall: dict[str, list[float]] = {side: [] for side in cmds}
    cpu: dict[str, list[float]] = {side: [] for side in cmds}
    for i in range(rounds):
        for side, cmd in list(cmds.items())[:: 1 if i % 2 == 0 else -1]:
            took, used = run(cmd)
            wall[side].append(took)
            cpu[side].append(used)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{rounds} rounds, load average {load}, {time.strftime('%Y-%m-%d %H:%M')}\n")
    print(f"| {deploy}, no-op rerun | mean (s) | min | max | median | CPU mean (s) |")
    print("|---|---|---|---|---|---|")
    for side in cmds:
        median, used = statistics.median(wall[side]), statistics.mean(cpu[side])
        print(f"| {side} | {summary(wall[side])} | {median:.3f} | {used:.3f} |")
    stock, ours = (statistics.mean(wall[side]) for side in cmds)
    print(f"\nlauncher / stock (means): {ours / stock:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rounds", nargs="?", type=int, default=10)
    parser.add_argument("--deploy", default="prepare", help="deploys/NAME.py (default: prepare)")
    args = parser.parse_args()
    main(args.rounds, args.deploy)
