"""One changing run per target: a second `fab` run that would change the same target is
refused naming the holder; a lock left by a killed run is taken over, saying so. The holder
here is a small process holding the lock exactly as `fab` does (gourmetops.runlock), so no
lab is needed; tests/test_up.py shows the same with two real `fab` runs on the lab."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gourmetops import PROJECT_ROOT, STATE_DIR

CHAMELEON = {
    "GOURMETOPS_FLOATING_IP": "127.0.0.10",  # loopback: no sshd there, nothing leaves
    "GOURMETOPS_NODE1_PUBLIC_ADDRESS": "127.0.0.8",
    "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent/chameleon.local.yaml",
}


def fab(*args: str) -> subprocess.CompletedProcess[str]:
    """The `fab` script itself: this run starts pyinfra, which an in-process run cannot do
    once another test has imported pyinfra's CLI (it monkey-patches the process)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("fab")), *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **CHAMELEON},
        timeout=120,
    )


# Holds the lock until its stdin closes (the test's end, or its kill): an event, so a slow
# machine cannot see the lock released early.
HOLD = """
import sys
from pathlib import Path
from gourmetops.runlock import run_lock
with run_lock(Path(sys.argv[1]), "chameleon", "prepare"):
    print("held", flush=True)
    sys.stdin.read()
"""


def _holder() -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(STATE_DIR / "chameleon")],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.startswith("taking over"):  # an earlier test's killed holder: said, as it should
        line = proc.stdout.readline()
    if line.strip() != "held":
        proc.kill()
        raise AssertionError(f"the holder could not take the lock: {line!r}")
    return proc


def test_a_second_changing_run_is_refused_naming_the_holder():
    before = time.strftime("%Y-%m-%d")
    holder = _holder()
    try:
        ran = fab("prepare", "--target", "chameleon")
        assert ran.returncode == 75, ran.stdout
        days = {before, time.strftime("%Y-%m-%d")}  # the holder started on one of them
        head = f"error: target chameleon is being changed by another run: PID {holder.pid} "
        assert any(ran.stdout.startswith(f"{head}(`fab prepare`, started {day}") for day in days), (
            ran.stdout
        )
        assert ran.stdout.rstrip().endswith("wait for it to finish (or stop it), then run again")
        # A dry run changes nothing and a read-only task needs no lock: both go ahead.
        dry = fab("cluster", "--target", "chameleon", "--dry")
        assert dry.returncode == 0 and "would run on node1 (chameleon)" in dry.stdout, dry.stdout
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_runs_lock_is_taken_over_and_said():
    holder = _holder()
    os.kill(holder.pid, signal.SIGKILL)  # as a killed session leaves it: no clean-up ran
    holder.wait()
    ran = fab("prepare", "--target", "chameleon")
    assert ran.stdout.startswith(
        f"taking over a stale lock on target chameleon from PID {holder.pid} (`fab prepare`, "
    ), ran.stdout
    assert "that run ended without releasing it" in ran.stdout.splitlines()[0]
    # This run got past the lock: it failed only at the (loopback) floating IP.
    assert ran.returncode != 75 and "prepare failed on target chameleon: node1: " in ran.stdout, (
        ran.stdout
    )
    assert (STATE_DIR / "chameleon" / "run.lock").read_text() == ""  # released when done
