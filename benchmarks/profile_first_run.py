"""Profile: where prepare's first run on pristine lab nodes spends its time, and the floor
of the work itself.

1. The timeline: `pyinfra inventories/lab.py deploys/prepare.py -y -v` (what `fab prepare`
   runs, with pyinfra's per-fact and per-operation lines) on freshly reset nodes, each
   output line stamped with the seconds since the start; printed as the phases pyinfra
   announces (`--> ...`) and each operation's span (from its start to the next one's).
2. The floor: the same work done by hand on freshly reset nodes, each command timed on the
   node itself (so no connection is counted): the 4096-bit key, dpkg removing the Docker
   packages, the offline `apt-get update`, firewalld stopped and disabled, `sshd -t` and
   the reload; and the connection set-up from the controller (OpenSSH, `true`).

    sudo .venv/bin/python benchmarks/profile_first_run.py [RUNS]    # default 3; 0: the floor only

Needs the lab (root). Leaves it up, on pristine nodes. docs/benchmarks.md records a run.
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gourmetops import PROJECT_ROOT  # noqa: E402
from gourmetops import lab as labmod  # noqa: E402
from gourmetops.jump import RELOAD_SSHD  # noqa: E402
from gourmetops.pyinfra_run import pyinfra_command  # noqa: E402
from gourmetops.settings import host_settings  # noqa: E402
from gourmetops.targets import Target, lab_target  # noqa: E402

KEYGEN_SAMPLES = 3  # per round


def node1_steps(target: Target) -> dict[str, str]:
    """Each step of node1's first run as the deploy's operation runs it (pyinfra's apt and
    systemd operations' own commands), to be timed on the node. The key goes to /tmp, so
    ~/.ssh stays pristine."""
    data = host_settings(target.name)
    bits = data.cluster_key_bits
    apt = (
        "DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Options::=--force-confdef "
        "-o Dpkg::Options::=--force-confold"
    )
    return {
        f"ssh-keygen -t rsa -b {bits}": (
            f"rm -f /tmp/k /tmp/k.pub; ssh-keygen -t rsa -b {bits} -f /tmp/k -q -N ''"
        ),
        f"dpkg: remove the {len(data.docker_packages)} Docker packages": (
            f"sudo {apt} remove {' '.join(data.docker_packages)}"
        ),
        "apt-get update (offline lab)": "sudo apt-get update -q || true",
        "firewalld stopped, then disabled": (
            "sudo systemctl stop firewalld.service && sudo systemctl disable firewalld.service"
        ),
        "sshd -t": "sudo sshd -t",
        "sshd reload": f"sudo sh -c {shlex.quote(RELOAD_SSHD)}",
    }


def stamped_run(cmd: list[str]) -> list[tuple[float, str]]:
    """Each output line of a command that must succeed, with the seconds since its start."""
    start = time.monotonic()
    lines: list[tuple[float, str]] = []
    with subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.monotonic() - start, line.rstrip()))
    lines.append((time.monotonic() - start, f"(exit {proc.returncode})"))
    if proc.returncode != 0:
        raise SystemExit("\n".join(line for _, line in lines[-40:]))
    return lines


def spans(lines: list[tuple[float, str]]) -> list[tuple[str, float, float]]:
    """(what, start, seconds) for each pyinfra phase (`--> ...`) and operation, up to the
    next one; the first span is the interpreter's start-up and imports."""
    marks = [(0.0, "(python start, pyinfra imports)")]
    marks += [(t, line.strip()) for t, line in lines if line.lstrip().startswith("-->")]
    end = lines[-1][0]
    return [
        (what, t, (marks[i + 1][0] if i + 1 < len(marks) else end) - t)
        for i, (t, what) in enumerate(marks)
    ]


def on_node(target: Target, node: str, script: str) -> str:
    proc = subprocess.run(
        target.ssh_argv(node, "bash -c " + shlex.quote(script)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{node}: {script}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def timed_on_node(target: Target, node: str, command: str) -> float:
    """Seconds `command` took on the node (its own clock: no connection counted); it must
    succeed."""
    out = on_node(
        target,
        node,
        f"s=$(date +%s.%N); ( {command} ) >/tmp/step.out 2>&1; rc=$?; e=$(date +%s.%N); "
        'echo "$s $e $rc"; [ $rc = 0 ] || cat /tmp/step.out',
    )
    started, ended, rc = out.split()[:3]
    if rc != "0":
        raise SystemExit(f"{node}: {command} failed ({rc}):\n{out}")
    return float(ended) - float(started)


def floor(target: Target, rounds: int) -> dict[str, list[float]]:
    """Each step timed on freshly reset nodes, `rounds` times (a reset before each); the
    connections first (sshd's reload, last, refuses new ones for a moment)."""
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        labmod.reset(target)
        for node in [n.name for n in target.cluster.nodes]:
            start = time.monotonic()
            on_node(target, node, "true")
            times.setdefault(f"ssh {node} true (OpenSSH, new connection)", []).append(
                time.monotonic() - start
            )
        for what, command in node1_steps(target).items():
            samples = KEYGEN_SAMPLES if what.startswith("ssh-keygen") else 1
            times.setdefault(what, []).extend(
                timed_on_node(target, "node1", command) for _ in range(samples)
            )
    labmod.reset(target)
    return times


def main(runs: int) -> None:
    target = lab_target()
    labmod.up(target)
    cmd = [*pyinfra_command(target.name, "prepare"), "-v"]
    totals = []
    for run in range(runs):
        labmod.reset(target)
        lines = stamped_run(cmd)
        totals.append(lines[-1][0])
        log = PROJECT_ROOT / ".state" / target.name / f"profile-first-run-{run + 1}.log"
        log.write_text("".join(f"{t:7.3f} {line}\n" for t, line in lines))
        print(f"\nrun {run + 1}: {lines[-1][0]:.2f} s (stamped output: {log})")
        for what, start, seconds in spans(lines):
            print(f"  {start:6.2f} +{seconds:5.2f}  {what[:110]}")
    if totals:
        print(f"\nfirst runs: {', '.join(f'{t:.2f}' for t in totals)} s")
    print("\n| step (timed on the node) | median (s) | min | max | n |\n|---|---|---|---|---|")
    for what, values in floor(target, max(runs, 3)).items():
        print(
            f"| {what} | {statistics.median(values):.2f} | {min(values):.2f} | "
            f"{max(values):.2f} | {len(values)} |"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
