"""The pyinfra stages (prepare, kubespray, registry) run as a user would type them, and
their output read back: `fab prepare` and `pyinfra inventories/<target>.py
deploys/prepare.py` are one code path."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from invoke import Context

from gourmetops import PROJECT_ROOT
from gourmetops.errors import StageFailed
from gourmetops.targets import TARGETS, Target, TargetError
from gourmetops.unreachable import advice, cause_in

if TYPE_CHECKING:
    from gourmetops.context import RunContext


def inventory_path(target: str) -> Path:
    if target not in TARGETS:
        raise TargetError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    return PROJECT_ROOT / "inventories" / f"{target}.py"


def is_dry_run() -> bool:
    """Whether this pyinfra process plans only: pyinfra 3 plans the same way with --dry and
    does not tell the deploy, which must still not fetch from the internet or fail on a
    node that an earlier stage would have prepared."""
    return "--dry" in sys.argv[1:]


def pyinfra_command(target: str, deploy: str, *, dry: bool = False) -> list[str]:
    """The pyinfra CLI call for one deploy file. A dry run lists the detected changes
    (pyinfra skips change detection under -y, so -y is only given for real runs). Run as
    `python -m pyinfra` with this interpreter: after `pip install --user` the pyinfra script
    is in ~/.local/bin, not beside the interpreter, and may not be on PATH."""
    cmd = [
        sys.executable,
        "-m",
        "pyinfra",
        str(inventory_path(target).relative_to(PROJECT_ROOT)),
        f"deploys/{deploy}.py",
    ]
    return cmd + ["--dry"] if dry else cmd + ["-y"]


_CONNECT_FAILED = re.compile(
    r"^\s*\[(?P<host>[^\]]+)\] (?P<what>SSH host key error|SSH error|Could not connect"
    r"|Could not resolve hostname|Connection error|EOF error|Authentication error)"
    r"(?: \((?P<why>.*)\))?\s*$",
    re.M,
)
_OP_FAILED = re.compile(r"^\s*\[(?P<host>[^\]]+)\] Error", re.M)
HOST_KEY_CHANGED = "SSH host key changed"


def failed_hosts(pyinfra_output: str) -> dict[str, str]:
    """Hosts a pyinfra run could not reach or failed on, from its log: host -> why."""
    failed = {}
    for m in _CONNECT_FAILED.finditer(pyinfra_output):
        what = "could not connect over SSH"
        if m["what"] == "SSH host key error":
            what = HOST_KEY_CHANGED
        failed[m["host"]] = what + (f" ({m['why']})" if m["why"] else "")
    for m in _OP_FAILED.finditer(pyinfra_output):
        said = re.search(rf"^\s*\[{re.escape(m['host'])}\] gourmetops: (.+)$", pyinfra_output, re.M)
        failed.setdefault(m["host"], said[1].strip() if said else "an operation failed")
    return failed


_RUN_ABORTED = re.compile(
    r"^--> (?:Operation error|pyinfra error)(?: in \S+ line \d+)?: (?P<why>.+)$", re.M
)


def aborted_because(pyinfra_output: str) -> str | None:
    """Why pyinfra stopped before running any operation (an error while planning, which
    pyinfra reports once for the whole run, not per host)."""
    found = _RUN_ABORTED.search(pyinfra_output)
    return found["why"].strip() if found else None


def explain_failures(failed: dict[str, str], target: Target) -> str:
    """One line naming every failed node in cluster order, with what the user can do.

    A worker is only reached through the jump host, so when the jump host cannot be
    reached the workers' own errors (which name the jump host's address) would mislead."""
    jump = target.cluster.jump.name
    addresses = {str(n.address): n.name for n in target.cluster.workers}
    addresses[str(target.public_address)] = jump
    known_hosts = target.ssh_options.get("UserKnownHostsFile", "~/.ssh/known_hosts")
    jump_failure = failed.get(jump, "")
    jump_unreachable = jump_failure.startswith(("could not connect", HOST_KEY_CHANGED))
    order = [n.name for n in target.cluster.nodes]
    parts = []
    for host in sorted(failed, key=lambda h: order.index(h) if h in order else len(order)):
        why = failed[host]
        if why.startswith(HOST_KEY_CHANGED):
            found = re.search(r"Host key for (\S+?)\.? does not match", why)
            address = found[1] if found else ""
            if addresses.get(address, host) != host:
                why = f"unreachable through {jump} ({jump}'s {HOST_KEY_CHANGED.lower()})"
            else:
                why = (
                    f"{HOST_KEY_CHANGED}: it is not the key pinned in {known_hosts}, so the run "
                    "stopped (a man-in-the-middle looks the same). If the node was rebuilt, "
                    f"remove the old key and rerun: ssh-keygen -f {known_hosts} -R {address}"
                )
        elif host != jump and jump_unreachable and why.startswith("could not connect"):
            why = f"unreachable through {jump} ({jump} could not be reached)"
        elif why.startswith("could not connect"):
            why = f"{why}: {advice(target, host, cause_in(why))}"
        parts.append(f"{host}: {why}")
    return "; ".join(parts)


def deploy(ctx: RunContext, dry: bool, name: str) -> None:
    """`pyinfra inventories/<target>.py deploys/<name>.py`, output streamed; a failure names
    each node and why. pyinfra exits 0 on Ctrl-C, so an interrupted run is told apart by its
    last words: it must not pass for a finished one."""
    cmd = pyinfra_command(ctx.name, name, dry=dry)
    print(f"==> {shlex.join(cmd)}", flush=True)
    c = Context()
    with c.cd(str(PROJECT_ROOT)):
        result = c.run(shlex.join(cmd), warn=True, pty=False, in_stream=False)
    assert result is not None  # warn=True: invoke returns the Result, it does not raise
    output = result.stdout + result.stderr
    if "\nExiting upon user request!" in "\n" + output:
        raise StageFailed(
            f"{name} interrupted on target {ctx.name}: stopped partway; "
            f"rerun `fab {name} --target {ctx.name}` to converge",
            130,
        )
    if result.exited != 0:
        why = explain_failures(failed_hosts(output), ctx.target) or aborted_because(output)
        raise StageFailed(
            f"{name} failed on target {ctx.name}: {why or 'see above'}", result.exited
        )
