"""Benchmark: deploys/prepare.py (pyinfra) against the same host state in Ansible
(benchmarks/ansible/prepare.yml), side by side on the same lab in one session.

For every contender and round: the lab is reset to pristine nodes, a first run is timed
and the state it left is checked (benchmarks/ansible_reference.state_problems, the same
check for both), then no-op reruns are timed and must report no change. The order of the
contenders rotates between rounds so neither always runs on a warmer machine. Also times
`fab lab.up` cold (lab down, rootfs cached) and warm (already running).

Contenders: ours, ansible, ansible with pipelining, and ansible under Mitogen's
mitogen_linear strategy (whose runs must also prove that Mitogen connected to every node,
benchmarks/mitogen.mitogen_problems, or they count as failed). A contender's failed run
(an error, a wrong state, a rerun that changes) ends its round with no time recorded; the
tables list it with why, and the other contenders' rounds go on.

    sudo .venv/bin/python benchmarks/prepare_vs_ansible.py [ROUNDS] [NOOP_REPEATS]

Needs the lab (root), ansible and mitogen (`pip install -e '.[dev]'`). docs/benchmarks.md
records a run.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ansible_reference import run_playbook, state_problems  # noqa: E402
from benchmarks.mitogen import MitogenError, mitogen_plugins  # noqa: E402
from gourmetops import PROJECT_ROOT  # noqa: E402
from gourmetops import lab as labmod  # noqa: E402
from gourmetops.pyinfra_run import pyinfra_command  # noqa: E402
from gourmetops.targets import Target, lab_target  # noqa: E402

BIN = Path(sys.executable).parent


class RunFailed(RuntimeError):
    """A contender's run failed or left the wrong state: its round is recorded as failed."""


def _checked_run(cmd: list[str]) -> tuple[float, str]:
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
        raise RunFailed(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}")
    return elapsed, proc.stdout


def timed_run(cmd: list[str]) -> tuple[float, str]:
    """(seconds, output) of a command that must succeed, or the benchmark stops; also used
    by check_time.py."""
    try:
        return _checked_run(cmd)
    except RunFailed as e:
        raise SystemExit(str(e)) from None


def _pyinfra_changes(output: str) -> str:
    """The Success column of pyinfra's Grand total row ('-' when nothing changed)."""
    for line in output.splitlines():
        if line.strip().startswith("Grand total"):
            return line.split()[3]
    raise RunFailed(f"no results table in pyinfra output:\n{output[-3000:]}")


def ours(target: Target) -> tuple[float, bool]:
    seconds, output = _checked_run(pyinfra_command(target.name, "prepare"))
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


def run_contender(name: str, target: Target) -> tuple[float, bool]:
    """One run of a contender; RunFailed when it failed, a Mitogen run Mitogen did not
    carry included (its time is not Mitogen's)."""
    try:
        return CONTENDERS[name](target)
    except RuntimeError as e:  # ansible-playbook's exit, MitogenError, ours: RunFailed
        raise RunFailed(str(e)) from None


def one_line(why: str) -> str:
    """A failure's reason in one line of the tables: the recap line that names the fault
    when there is one (`node12 : ok=0 ... unreachable=1`), else the first line."""
    lines = [line.strip() for line in why.splitlines() if line.strip()]
    faulty = [ln for ln in lines if re.search(r"\b(unreachable|failed)=[1-9]", ln)]
    return "; ".join(faulty)[:200] if faulty else lines[0][:200] if lines else "no output"


@dataclass
class Rounds:
    """Every contender's times and failed runs ("round 2, first run: why"), by name."""

    first: dict[str, list[float]] = field(default_factory=dict)
    noop: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)


def _one_round(target: Target, name: str, noop_repeats: int, rounds: Rounds, i: int) -> str:
    """A contender's round: its first run on pristine nodes (its state checked), then its
    no-op reruns (each must change nothing). The first failure ends the round, recorded in
    `rounds`. Returns the round's line for the console."""
    labmod.reset(target)
    run = "first run"
    try:
        seconds, changed = run_contender(name, target)
        problems = state_problems(target)
        if not changed or problems:
            raise RunFailed(f"changed={changed}, state: {'; '.join(problems) or 'right'}")
        rounds.first[name].append(seconds)
        for k in range(noop_repeats):
            run = f"no-op rerun {k + 1}"
            seconds, changed = run_contender(name, target)
            if changed:
                raise RunFailed("it reported changes")
            rounds.noop[name].append(seconds)
    except RunFailed as e:
        rounds.failed[name].append(f"round {i + 1}, {run}: {one_line(str(e))}")
        return f"FAILED: {rounds.failed[name][-1]}"
    noop = ", ".join(f"{s:.2f}" for s in rounds.noop[name][-noop_repeats:])
    return f"first {rounds.first[name][-1]:.2f}s, no-op {noop}s"


def measure_rounds(target: Target, rounds: int, noop_repeats: int, label: str = "") -> Rounds:
    """Every contender's first runs (each on pristine nodes, its state checked) and no-op
    reruns, the order rotated every round; also used by scale_curve.py at each size. A
    contender's failed run is recorded and the benchmark goes on (one lost node must not
    void the others' numbers); a round in which every contender failed stops it."""
    names = list(CONTENDERS)
    measured = Rounds({n: [] for n in names}, {n: [] for n in names}, {n: [] for n in names})
    for i in range(rounds):
        failed = 0
        for name in names[i % len(names) :] + names[: i % len(names)]:
            line = _one_round(target, name, noop_repeats, measured, i)
            failed += line.startswith("FAILED")
            print(f"{label}round {i + 1} {name}: {line}", flush=True)
        if failed == len(names):
            why = "; ".join(whys[-1] for whys in measured.failed.values())
            raise SystemExit(f"{label}round {i + 1}: every contender failed: {why}")
    return measured


def ratio(theirs: list[float], ours: list[float]) -> str:
    """Their median over ours, or "-" when a side has no successful run to show."""
    if not theirs or not ours:
        return "-"
    return f"{statistics.median(theirs) / statistics.median(ours):.2f}x"


def failures(failed: dict[str, list[str]]) -> list[str]:
    """The failed runs' table (nothing when none failed): a time left out is said."""
    rows = [f"| {name} | {why} |" for name, whys in failed.items() for why in whys]
    return ["", "| failed run (no time recorded) | why |", "|---|---|", *rows] if rows else []


def tables(measured: Rounds, more: dict[str, list[float]]) -> str:
    """The times of every contender (and the `more` rows: fab, lab.up), then each Ansible
    contender's medians over ours (the first key, as in CONTENDERS): a contender added
    there gets its rows and its ratio. Failed runs are listed after, with why."""

    def row(label: str, values: list[float]) -> str:
        if not values:
            return f"| {label} | - | - | - | 0 |"
        return (
            f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | "
            f"{max(values):.2f} | {len(values)} |"
        )

    first, noop = measured.first, measured.noop
    lines = ["| run | median (s) | min (s) | max (s) | n |", "|---|---|---|---|---|"]
    for name in first:
        lines += [row(f"{name}, first run", first[name]), row(f"{name}, no-op rerun", noop[name])]
    lines += [row(label, values) for label, values in more.items()]
    ours, *others = first
    lines += ["", "| Ansible / ours (medians) | first run | no-op rerun |", "|---|---|---|"]
    for name in others:
        lines.append(
            f"| {name} | {ratio(first[name], first[ours])} | {ratio(noop[name], noop[ours])} |"
        )
    return "\n".join(lines + failures(measured.failed))


def main(rounds: int, noop_repeats: int) -> None:
    preflight()
    target = lab_target()
    labmod.up(target)
    measured = measure_rounds(target, rounds, noop_repeats)
    fab_noop = [timed_run([str(BIN / "fab"), "prepare"])[0] for _ in range(noop_repeats)]

    labmod.down(target)
    lab_cold, _ = timed_run([str(BIN / "fab"), "lab.up"])
    lab_warm, _ = timed_run([str(BIN / "fab"), "lab.up"])
    more = {
        "`fab prepare`, no-op rerun": fab_noop,
        "`fab lab.up` cold (rootfs cached)": [lab_cold],
        "`fab lab.up` warm (running)": [lab_warm],
    }
    print("\n" + tables(measured, more))


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 3,
        int(sys.argv[2]) if len(sys.argv) > 2 else 3,
    )
