"""Running an ansible-playbook on node1 from the controller: streamed progress, the whole
log kept on the controller, the PLAY RECAP read, and reruns while hosts fail."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from fabric import Connection

from gourmetops.errors import GourmetopsError
from gourmetops.kubespray.recap import (
    HostRecap,
    PlaybookProgress,
    RecapError,
    parse_recap,
    summarize_failure,
)
from gourmetops.output import LineWriter, say
from gourmetops.safe_write import ensure_dir, open_append
from gourmetops.unreachable import Unreachable

# kubespray's ssh_args, less the option that sends the known hosts file to /dev/null.
ANSIBLE_SSH_ARGS = "-o ControlMaster=auto -o ControlPersist=30m -o ConnectionAttempts=100"


class PlaybookFailed(GourmetopsError, RuntimeError):
    """Still failing after the last retry; the message names hosts and the first failed task."""


@dataclass(frozen=True)
class PlaybookRun:
    kubespray_dir: str
    venv: str
    inventory: str
    playbook: str
    # Every node at once (kubespray's Vagrantfile passes --forks=<instances> too); Ansible's
    # default of 5 runs a 12-node cluster in three waves.
    forks: int = 5
    # -e NAME=VALUE pairs (reset.yml's reset_confirmation=yes), each quoted for the shell
    extra_vars: tuple[tuple[str, str], ...] = ()
    # run first in the same command (dropping the cluster record): an unreachable node1 is
    # then retried with the playbook, and the record never outlives a started run
    prelude: str = ""
    # --limit PATTERN (scale.yml joining new nodes only, as kubespray's nodes.md advises)
    limit: str = ""

    def command(self) -> str:
        """The shell command for node1; relative paths are under the login user's home."""
        # No colour: the log is for reading and the recap for parsing. kubespray's
        # ansible.cfg turns host key checking off (and sends its known hosts file to
        # /dev/null); the environment wins over it, so the keys the prepare stage
        # pinned in node1's known_hosts are checked. Its other ssh_args are kept.
        return (
            (f"{self.prelude} && " if self.prelude else "")
            + f"cd {_home_path(self.kubespray_dir)} && ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 "
            f"ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_SSH_ARGS={shlex.quote(ANSIBLE_SSH_ARGS)} "
            f"{_home_path(self.venv)}/bin/ansible-playbook "
            f"-i {shlex.quote(self.inventory)} --forks {max(5, int(self.forks))} "
            "--become --become-user=root "
            + "".join(f"-e {shlex.quote(f'{k}={v}')} " for k, v in self.extra_vars)
            + (f"--limit {shlex.quote(self.limit)} " if self.limit else "")
            + shlex.quote(self.playbook)
        )


def _home_path(path: str) -> str:
    return shlex.quote(path) if path.startswith("/") else f'"$HOME"/{shlex.quote(path)}'


def _attempt(
    conn: Connection, run: PlaybookRun, log_path: Path, expected: int | None
) -> tuple[dict[str, HostRecap] | None, str]:
    """One run of the playbook: its recap when every host is healthy, else why not. A
    connection to node1 that fails or drops is such a why (gourmetops.unreachable says it),
    so it is retried like a failed host. Every byte it prints goes to its own log; the run
    is shown (and kept in the run's log) as one progress line per task."""
    progress = PlaybookProgress(expected, time.monotonic)

    def show(line: str) -> None:
        shown = progress.feed(line)
        if shown:
            say(shown)

    with open_append(log_path, "playbook log") as log:
        tee = LineWriter(log, show)
        try:
            result = conn.run(
                run.command(), warn=True, pty=False, in_stream=False, out_stream=tee, err_stream=tee
            )
        except Unreachable as exc:
            return None, str(exc)
    try:
        recap = parse_recap(result.stdout)
    except RecapError as exc:
        return None, f"{exc} (exit {result.exited})"
    if all(h.healthy for h in recap.values()) and result.exited == 0:
        return recap, ""
    return None, summarize_failure(recap, progress)


def tasks_last_time(log_dir: Path, stem: str) -> int | None:
    """Task banners in the newest log of this playbook that reached its PLAY RECAP: about
    how many tasks a run prints (kubespray's cluster.yml: about 2,600), None before one."""
    for log in sorted(log_dir.glob(f"{stem}-*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
        progress = PlaybookProgress()
        with log.open(errors="replace") as lines:
            finished = False
            for line in lines:
                progress.feed(line)
                finished = finished or line.startswith("PLAY RECAP")
        if finished and progress.task_count:
            return progress.task_count
    return None


def run_with_retries(
    conn: Connection, run: PlaybookRun, log_dir: Path, retries: int = 2
) -> dict[str, HostRecap]:
    """Run, and rerun up to `retries` times while the recap shows failed or unreachable
    hosts (kubespray's advice: re-running retries the failed parts), or node1 could not be
    reached."""
    ensure_dir(log_dir, "run logs directory")
    summary = ""
    expected = tasks_last_time(log_dir, Path(run.playbook).stem)
    for attempt in range(1, retries + 2):
        log_path = (
            log_dir / f"{Path(run.playbook).stem}-{time.strftime('%Y%m%d-%H%M%S')}-{attempt}.log"
        )
        say(
            f"==> {run.playbook} on {conn.original_host}, "
            f"attempt {attempt}/{retries + 1}; log: {log_path}"
        )
        recap, summary = _attempt(conn, run, log_path, expected)
        if recap is not None:
            return recap
        say(f"==> attempt {attempt} failed: {summary}")
    raise PlaybookFailed(f"{run.playbook} failed after {retries + 1} attempt(s): {summary}")
