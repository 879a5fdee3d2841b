"""Waiting for a booted lab node: systemd inside it done (asked on its console), then SSH
letting the cluster user in; a unit that failed in a loaded boot gets one more start, and a
node that never gets there is reported with what its console shows."""

from __future__ import annotations

import subprocess
import time

from gourmetops.lab import machines
from gourmetops.lab.system import LabError, say
from gourmetops.targets import Target
from gourmetops.waiting import wait_until

# Above systemd's own 90 s job timeout, so a slow unit fails the boot before we give up.
BOOT_TIMEOUT = 150.0


def _ssh(target: Target, name: str, command: str, timeout: float = 30):
    return subprocess.run(
        target.ssh_argv(name, command),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_booted(target: Target, name: str, pid: int) -> None:
    """Until systemd inside the node says boot finished (asked on its console, so a node
    that refuses logins while booting still answers), then until SSH lets `cc` in."""
    deadline = time.monotonic() + BOOT_TIMEOUT  # one for both phases

    def systemd_done() -> str | None:
        try:
            state = machines.console_exec(
                pid,
                "systemctl is-system-running --wait",
                timeout=max(deadline - time.monotonic(), 1.0),
            ).stdout.strip()
        except subprocess.TimeoutExpired:
            return "timed out"
        except LabError:
            return None  # nspawn has no console for it yet
        # "offline"/"unknown": the node's systemd is not up yet
        return state if state in ("running", "degraded") else None

    state = wait_until(systemd_done, BOOT_TIMEOUT, 0.5)
    if state == "degraded":
        _restart_failed_units(name, pid)
    elif state != "running":
        raise LabError(f"{name} did not finish booting in {BOOT_TIMEOUT:.0f}s: {_diagnose(pid)}")
    refused = {"last": ""}

    def ssh_lets_in() -> bool | None:
        proc = _ssh(target, name, "true")
        refused["last"] = proc.stderr.strip()
        return True if proc.returncode == 0 else None

    if wait_until(ssh_lets_in, max(deadline - time.monotonic(), 0.0), 0.5) is None:
        raise LabError(f"{name} booted but refuses SSH ({refused['last']}): {_diagnose(pid)}")


def _restart_failed_units(name: str, pid: int) -> None:
    """A unit that failed while the nodes booted at once on a loaded machine (seen in CI:
    systemd-user-sessions, which leaves /run/nologin and so refuses every SSH login) gets
    one more start; the lab says which and why, and fails if it fails again."""
    units = machines.console_exec(
        pid, "systemctl --failed --no-legend --plain | awk '{print $1}'"
    ).stdout.split()
    if not units:
        return
    why = machines.console_exec(
        pid, "journalctl -b --no-pager -n 15 " + " ".join(f"-u {u}" for u in units)
    ).stdout.strip()
    say(f"{name} booted degraded, starting again: {' '.join(units)}\n{why}")
    retry = machines.console_exec(
        pid,
        f"systemctl reset-failed {' '.join(units)} && systemctl start {' '.join(units)}",
        timeout=60,
    )
    if retry.returncode != 0:
        raise LabError(f"{name}: {' '.join(units)} failed again: {retry.stderr.strip()}")


def _diagnose(pid: int) -> str:
    """What a boot is stuck on, read on the node's console."""
    try:
        proc = machines.console_exec(
            pid,
            "systemctl is-system-running; systemctl list-jobs --no-legend; "
            "ls -l /run/nologin 2>&1; journalctl -b --no-pager -n 40",
            timeout=20,
        )
        return proc.stdout.strip() or proc.stderr.strip()
    except (subprocess.TimeoutExpired, LabError) as exc:
        return f"(console did not answer: {exc})"
