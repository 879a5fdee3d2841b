"""The pyinfra stages (prepare, kubespray, registry) run as a user would type them: `fab
prepare` and `pyinfra inventories/<target>.py deploys/prepare.py` are one code path. Under
`fab`, pyinfra reports each connection and operation through our callback handler
(gourmetops/pyinfra_events.py) as JSON lines; they make the console's condensed lines and
say which node failed and why, while pyinfra's own output goes whole to the run log."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gourmetops import PROJECT_ROOT, output
from gourmetops import pyinfra_report as report
from gourmetops.errors import StageFailed
from gourmetops.pyinfra_report import HOST_KEY_CHANGED, Event
from gourmetops.targets import Target, TargetError, unknown_target
from gourmetops.unreachable import advice, cause_in

if TYPE_CHECKING:
    from gourmetops.context import RunContext


def inventory_path(target: str) -> Path:
    why = unknown_target(target)
    if why:
        raise TargetError(why)
    return PROJECT_ROOT / "inventories" / f"{target}.py"


def is_dry_run() -> bool:
    """Whether this pyinfra process plans only: pyinfra 3 plans the same way with --dry and
    does not tell the deploy, which must still not fetch from the internet or fail on a
    node that an earlier stage would have prepared. `fab` says it in DRY_VARIABLE; a
    `pyinfra ... --dry` typed by hand sets no variable, so there argv is the only source."""
    said = os.environ.get(report.DRY_VARIABLE)
    return said == "1" if said in ("0", "1") else "--dry" in sys.argv[1:]


def pyinfra_command(target: str, deploy: str, *, dry: bool = False) -> list[str]:
    """The pyinfra CLI call for one deploy file. A dry run lists the detected changes
    (pyinfra skips change detection under -y, so -y is only given for real runs). Run with
    this interpreter (after `pip install --user` the pyinfra script is in ~/.local/bin, not
    beside it, and may not be on PATH), through `pyinfra_main`: pyinfra's CLI, started
    faster."""
    cmd = [
        sys.executable,
        "-m",
        "gourmetops.pyinfra_main",
        str(inventory_path(target).relative_to(PROJECT_ROOT)),
        f"deploys/{deploy}.py",
    ]
    return cmd + ["--dry"] if dry else cmd + ["-y"]


_CONNECT_FAILED = re.compile(rf"^\s*\[(?P<host>[^\]]+)\] +{report.CONNECT_ERROR}\s*$", re.M)
_OP_FAILED = re.compile(r"^\s*\[(?P<host>[^\]]+)\] +Error", re.M)


def failed_hosts(pyinfra_output: str, events: list[Event] | None = None) -> dict[str, str]:
    """Hosts a pyinfra run could not reach or failed on: host -> why. From the run's
    events; read from its log only when it made none (it stopped before our inventory)."""
    if events is not None:
        return report.failed_hosts(events)
    failed = {}
    for m in _CONNECT_FAILED.finditer(pyinfra_output):
        failed[m["host"]] = report.connect_failure(m["what"], m["why"])
    for m in _OP_FAILED.finditer(pyinfra_output):
        said = re.search(
            rf"^\s*\[{re.escape(m['host'])}\] +gourmetops: (.+)$", pyinfra_output, re.M
        )
        failed.setdefault(m["host"], said[1].strip() if said else "an operation failed")
    return failed


def aborted_because(pyinfra_output: str, events: list[Event] | None = None) -> str | None:
    """Why pyinfra stopped before running any operation (an error while planning, which
    pyinfra reports once for the whole run, not per host); from the events when there are."""
    if events is not None:
        return report.aborted_because(events)
    found = re.search(report.RUN_ABORTED, pyinfra_output, re.M)
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


def _condensed(dry: bool) -> bool:
    """Whether pyinfra's output goes whole to the run's log and the console gets the
    condensed lines; not when it is shown as it comes: in a dry run (it keeps no log, and
    executes nothing: its plan is pyinfra's table of detected changes), with
    GOURMETOPS_VERBOSE=1, or outside a logged run."""
    if dry or os.environ.get(report.VERBOSE_VARIABLE) == "1":
        return False
    return output.logging_to_file()


class Interrupted(Exception):
    """Ctrl-C came while pyinfra ran; pyinfra has stopped."""


# After a Ctrl-C, how long pyinfra gets to stop on its own. It prints "Exiting upon user
# request!" and normally exits within a second; in one CI run it printed that and never
# ended (cause not found), nor did fab, which reads its output to the end.
CTRL_C_GRACE_S = 30.0


def _stop_when_stuck(proc: subprocess.Popen[str], noted: threading.Event, grace: float) -> None:
    """Once a Ctrl-C is noted, give pyinfra `grace` seconds to stop, then kill it (our own
    child, by PID), so that fab's read of its output ends and fab says it was interrupted."""
    while not noted.wait(timeout=1.0):
        if proc.poll() is not None:
            return  # pyinfra ended without a Ctrl-C: nothing to watch
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        output.say(f"pyinfra did not stop {grace:.0f} s after Ctrl-C: stopping it (PID {proc.pid})")
        proc.kill()


def _read(proc: subprocess.Popen[str], each: Callable[[str], None]) -> None:
    """Each of pyinfra's output lines to `each`, until it exits."""
    assert proc.stdout is not None
    for line in proc.stdout:
        each(line)
    proc.wait()


@contextmanager
def _ctrl_c_noted() -> Iterator[threading.Event]:
    """While pyinfra runs, a Ctrl-C is noted, not raised. The terminal sends it to pyinfra
    too (one process group), and pyinfra stops; raised here, it could land between reading
    a line of pyinfra's and keeping it, and lose the line that says how pyinfra stopped. A
    second Ctrl-C raises as usual, for a pyinfra that does not stop."""
    noted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield noted  # signal handlers belong to the main thread
        return

    def on_sigint(_signum: int, _frame: object) -> None:
        if noted.is_set():
            raise KeyboardInterrupt
        noted.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def _run(cmd: list[str], events: Path, dry: bool) -> tuple[int, str, list[report.Event] | None]:
    """pyinfra run with its events followed: each output line to the raw sink, and the
    events written meanwhile condensed to the console. Returns (exit code, output, every
    event, or None when pyinfra made no events file). A Ctrl-C meanwhile raises Interrupted
    once pyinfra has stopped."""
    condensed = report.Condensed() if _condensed(dry) else None
    follow = report.EventsFile(events)
    seen: list[report.Event] = []
    said: list[str] = []

    def catch_up() -> None:
        """The events written since the last look: kept, and condensed to the console."""
        new = follow.read_new()
        seen.extend(new)
        if condensed is not None:
            for shown in [line for event in new for line in condensed.feed(event)]:
                output.say(shown, only="console")

    def each(line: str) -> None:
        said.append(line)
        output.stream(line, only="log" if condensed is not None else None)
        if condensed is not None:
            catch_up()

    env = {
        **os.environ,
        report.EVENTS_VARIABLE: str(events),
        report.DRY_VARIABLE: "1" if dry else "0",
        "PYTHONUNBUFFERED": "1",  # its lines in the order it wrote them
    }
    with (
        _ctrl_c_noted() as ctrl_c,
        subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as proc,
    ):
        watch = (proc, ctrl_c, CTRL_C_GRACE_S)
        threading.Thread(target=_stop_when_stuck, args=watch, daemon=True).start()
        _read(proc, each)
    catch_up()
    if condensed is not None:
        for shown in condensed.finish():
            output.say(shown, only="console")
    if ctrl_c.is_set():
        raise Interrupted
    return proc.returncode, "".join(said), seen if follow.seen else None


def deploy(ctx: RunContext, dry: bool, name: str) -> None:
    """`pyinfra inventories/<target>.py deploys/<name>.py`, output streamed (condensed, see
    _condensed); a failure names each node and why. pyinfra exits 0 on Ctrl-C: an
    interrupted run is told apart by the Ctrl-C we saw too, or by pyinfra's last words
    when only pyinfra got one. It must not pass for a finished run."""
    cmd = pyinfra_command(ctx.name, name, dry=dry)
    output.say(f"==> {shlex.join(cmd)}")
    interrupted = StageFailed(
        f"{name} interrupted on target {ctx.name}: stopped partway; "
        f"rerun `fab {name} --target {ctx.name}` to converge",
        130,
    )
    with tempfile.TemporaryDirectory(prefix="gourmetops-pyinfra-") as tmp:
        events_path = Path(tmp) / "events.jsonl"
        try:
            exited, said, events = _run(cmd, events_path, dry)
        except Interrupted:
            raise interrupted from None
    if "\nExiting upon user request!" in "\n" + said:  # a SIGINT sent to pyinfra alone
        raise interrupted
    if exited != 0:
        failed = failed_hosts(said, events)
        why = explain_failures(failed, ctx.target) or aborted_because(said, events)
        if not why and _condensed(dry):  # pyinfra's last words: not on the console yet
            last = "".join(said.splitlines(keepends=True)[-30:])
            output.say(last, end="", only="console")
        raise StageFailed(f"{name} failed on target {ctx.name}: {why or 'see above'}", exited)
