"""Benchmark: deploys/prepare.py (pyinfra) against the same host state in Ansible
(benchmarks/ansible/prepare.yml), side by side on the same lab in one session.

For every contender and round: the lab is reset to pristine nodes, a first run is timed
and the state it left is checked (benchmarks/ansible_reference.state_problems, the same
check for both), then no-op reruns are timed and must report no change. The order of the
contenders rotates between rounds so neither always runs on a warmer machine. Also times
`fab lab.up` cold (lab down, rootfs cached) and warm (already running).

Contenders: ours, ansible, ansible with pipelining, and ansible under Mitogen's
mitogen_linear strategy (whose runs must also prove that Mitogen connected to every node,
benchmarks/mitogen.mitogen_problems, or the benchmark stops without numbers).

    sudo .venv/bin/python benchmarks/prepare_vs_ansible.py [ROUNDS] [NOOP_REPEATS]

Needs the lab (root), ansible and mitogen (`pip install -e '.[dev]'`). docs/benchmarks.md
records a run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ansible_reference import run_playbook, state_problems  # noqa: E402
from benchmarks.mitogen import MitogenError, mitogen_plugins  # noqa: E402
from gourmetops import PROJECT_ROOT  # noqa: E402
from gourmetops import lab as labmod  # noqa: E402
from gourmetops.pyinfra_run import pyinfra_command  # noqa: E402
from gourmetops.targets import Target, lab_target  # noqa: E402

BIN = Path(sys.executable).parent


def timed_run(cmd: list[str]) -> tuple[float, str]:
    """(seconds, output) of a command that must succeed; also used by check_time.py."""
    start = time.monotonic()
    proc = subprocess.run(
        cmd,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=600,
    )
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}")
    return elapsed, proc.stdout


def _pyinfra_changes(output: str) -> str:
    """The Success column of pyinfra's Grand total row ('-' when nothing changed)."""
    for line in output.splitlines():
        if line.strip().startswith("Grand total"):
            return line.split()[3]
    raise SystemExit(f"no results table in pyinfra output:\n{output[-3000:]}")


def ours(target: Target) -> tuple[float, bool]:
    seconds, output = timed_run(pyinfra_command(target.name, "prepare"))
    return seconds, _pyinfra_changes(output) != "-"


def ansible(pipelining: bool, mitogen: bool = False) -> Callable[[Target], tuple[float, bool]]:
    def run(target: Target) -> tuple[float, bool]:
        result = run_playbook(target, pipelining=pipelining, mitogen=mitogen)
        return result.seconds, result.changed > 0

    return run


CONTENDERS: dict[str, Callable[[Target], tuple[float, bool]]] = {
    "pyinfra (ours)": ours,
    "ansible": ansible(pipelining=False),
    "ansible, pipelining": ansible(pipelining=True),
    "ansible, mitogen": ansible(pipelining=False, mitogen=True),
}


def preflight() -> None:
    """Stop before the lab is touched when a contender cannot run (mitogen not installed)."""
    try:
        mitogen_plugins()
    except MitogenError as e:
        raise SystemExit(f"ansible, mitogen: {e}") from None


def run_contender(name: str, target: Target, label: str) -> tuple[float, bool]:
    """One run of a contender; a Mitogen run Mitogen did not carry stops the benchmark with
    one line (which contender, at which size, why), before any number is printed."""
    try:
        return CONTENDERS[name](target)
    except MitogenError as e:
        raise SystemExit(f"{label}{name}: {e}") from None


def measure_rounds(
    target: Target, rounds: int, noop_repeats: int, label: str = ""
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Every contender's first runs (each on pristine nodes, its state checked) and no-op
    reruns (each must change nothing), the order rotated every round; also used by
    scale_curve.py at each size."""
    first: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    noop: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    names = list(CONTENDERS)
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            labmod.reset(target)
            seconds, changed = run_contender(name, target, label)
            problems = state_problems(target)
            if not changed or problems:
                raise SystemExit(f"{label}{name}: first run changed={changed}, state: {problems}")
            first[name].append(seconds)
            for _ in range(noop_repeats):
                seconds, changed = run_contender(name, target, label)
                if changed:
                    raise SystemExit(f"{label}{name}: a rerun reported changes")
                noop[name].append(seconds)
            print(
                f"{label}round {i + 1} {name}: first {first[name][-1]:.2f}s, "
                f"no-op {', '.join(f'{s:.2f}' for s in noop[name][-noop_repeats:])}s",
                flush=True,
            )
    return first, noop


def tables(
    first: dict[str, list[float]], noop: dict[str, list[float]], more: dict[str, list[float]]
) -> str:
    """The times of every contender (and the `more` rows: fab, lab.up), then each Ansible
    contender's medians over ours (the first key, as in CONTENDERS): a contender added
    there gets its rows and its ratio."""

    def row(label: str, values: list[float]) -> str:
        return (
            f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | "
            f"{max(values):.2f} | {len(values)} |"
        )

    lines = ["| run | median (s) | min (s) | max (s) | n |", "|---|---|---|---|---|"]
    for name in first:
        lines += [row(f"{name}, first run", first[name]), row(f"{name}, no-op rerun", noop[name])]
    lines += [row(label, values) for label, values in more.items()]
    ours, *others = first
    ours_first, ours_noop = statistics.median(first[ours]), statistics.median(noop[ours])
    lines += ["", "| Ansible / ours (medians) | first run | no-op rerun |", "|---|---|---|"]
    for name in others:
        lines.append(
            f"| {name} | {statistics.median(first[name]) / ours_first:.2f}x | "
            f"{statistics.median(noop[name]) / ours_noop:.2f}x |"
        )
    return "\n".join(lines)


def main(rounds: int, noop_repeats: int) -> None:
    preflight()
    target = lab_target()
    labmod.up(target)
    first, noop = measure_rounds(target, rounds, noop_repeats)
    fab_noop = [timed_run([str(BIN / "fab"), "prepare"])[0] for _ in range(noop_repeats)]

    labmod.down(target)
    lab_cold, _ = timed_run([str(BIN / "fab"), "lab.up"])
    lab_warm, _ = timed_run([str(BIN / "fab"), "lab.up"])
    more = {
        "`fab prepare`, no-op rerun": fab_noop,
        "`fab lab.up` cold (rootfs cached)": [lab_cold],
        "`fab lab.up` warm (running)": [lab_warm],
    }
    print("\n" + tables(first, noop, more))


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 3,
        int(sys.argv[2]) if len(sys.argv) > 2 else 3,
    )
