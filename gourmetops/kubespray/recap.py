"""Following an ``ansible-playbook`` run through the text of its default stdout callback.

Kubespray runs for the better part of an hour and its exit code only says *that* something
went wrong. The stdout says what: the PLAY RECAP at the end counts per host, and the
``fatal:``/``failed:`` lines in between name the task that broke. Reading the text (rather
than switching to a JSON callback) keeps the log a person reads and the data the code reads
the same, and works unchanged on whatever ansible version kubespray's venv pins.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields

from gourmetops.errors import GourmetopsError

__all__ = [
    "HostRecap",
    "PlaybookProgress",
    "RecapError",
    "TaskFailure",
    "parse_recap",
    "strip_ansi",
    "summarize_failure",
]

# CSI sequences (colours, mostly): ANSIBLE_FORCE_COLOR, or a terminal that ansible
# thought was one, wraps whole lines and single recap columns in them.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")

# Banners are "<msg> " padded with stars to 80 columns, never fewer than three stars; in check
# mode ansible appends " [CHECK MODE]" to the PLAY and TASK banners.
_CHECK = r"(?: \[CHECK MODE\])?"
_PLAY = re.compile(rf"^PLAY \[(?P<name>.*?)\]{_CHECK} \*{{3,}}$")
_TASK = re.compile(rf"^TASK \[(?P<name>.*?)\]{_CHECK} \*{{3,}}$")
_HANDLER = re.compile(rf"^RUNNING HANDLER \[(?P<name>.*?)\]{_CHECK} \*{{3,}}$")
_RECAP_HEADER = re.compile(r"^PLAY RECAP \*{3,}$")
_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<stats>\w+=\d+(?:\s+\w+=\d+)*)$")
_STAT = re.compile(r"(\w+)=(\d+)")

# Per-host result lines. A host's name is followed by " -> <delegate>" on delegated tasks; the
# failure belongs to the host the task ran for, so only the part before the arrow is kept.
_RESULT = re.compile(r"^(?:ok|changed|skipping|failed|fatal): \[(?P<host>[^\]]+)\]")
_FAILURE = re.compile(
    r"^(?:fatal: \[(?P<fatal_host>[^\]]+)\]: (?P<kind>FAILED|UNREACHABLE)!"
    r"|failed: \[(?P<item_host>[^\]]+)\] \(item=(?P<item>.*?)\)) =>"
)
_IGNORING = re.compile(r"^\.\.\.ignoring$")

# Columns every ansible version prints; the others came with ansible 2.8 and default to 0.
_REQUIRED = ("ok", "changed", "unreachable", "failed")


class RecapError(GourmetopsError, ValueError):
    """The output has no (usable) PLAY RECAP, so the run's outcome per host is unknown.

    A ValueError because it is the text that is wrong for the question, typically because
    ansible was killed, interrupted or crashed before it got to print the recap."""


def strip_ansi(text: str) -> str:
    """Remove colour codes, so that coloured and plain output parse the same way."""
    return _ANSI.sub("", text)


def _host(raw: str) -> str:
    """``node1 -> node2`` (delegated) is node1's result: keep the host the task ran for."""
    return raw.split(" -> ", 1)[0].strip()


@dataclass(frozen=True)
class HostRecap:
    """One host's line of the PLAY RECAP: how many task results of each kind it had."""

    host: str
    ok: int
    changed: int
    unreachable: int
    failed: int
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    @property
    def healthy(self) -> bool:
        """Nothing failed and the host stayed reachable; ignored and rescued errors were
        handled by the playbook itself and do not make a host unhealthy."""
        return self.failed == 0 and self.unreachable == 0


def parse_recap(output: str) -> dict[str, HostRecap]:
    """The per-host counts from the last PLAY RECAP in ``output``, in ansible's order.

    The last one, because a log can hold several runs (or a nested run's output) and only
    the final recap describes how this run ended. A recap without host lines (no host
    matched any play) gives an empty dict; no recap at all raises RecapError, as the run
    did not finish and its outcome cannot be read.
    """
    lines = [strip_ansi(line).rstrip() for line in output.splitlines()]
    headers = [i for i, line in enumerate(lines) if _RECAP_HEADER.match(line)]
    if not headers:
        raise RecapError(
            "no PLAY RECAP in the ansible-playbook output: the run did not finish "
            "(killed, interrupted, or it failed before the first play)"
        )
    recap: dict[str, HostRecap] = {}
    for line in lines[headers[-1] + 1 :]:
        match = _RECAP_LINE.match(line)
        if not match:  # the blank line after the recap, or what another callback adds
            break
        stats = {key: int(value) for key, value in _STAT.findall(match["stats"])}
        missing = [key for key in _REQUIRED if key not in stats]
        if missing:
            raise RecapError(f"PLAY RECAP line without {', '.join(missing)}: {line!r}")
        counts = {f.name: stats.get(f.name, 0) for f in fields(HostRecap) if f.name != "host"}
        recap[match["host"]] = HostRecap(host=match["host"], **counts)
    return recap


@dataclass(frozen=True)
class TaskFailure:
    """A ``fatal:`` or ``failed: ... (item=...)`` line: which host broke in which task."""

    host: str
    task: str | None
    play: str | None
    task_number: int
    unreachable: bool = False
    item: str | None = None


class PlaybookProgress:
    """Follows ansible-playbook's stdout line by line: where the run is, and what failed.

    A kubespray run prints tens of thousands of lines; ``feed`` condenses them to one line
    per task, so whoever watches sees it move without drowning. Failures are kept so that a
    failed run can be summarised by the task that broke first, which is what one fixes.

    Failures the playbook handled are dropped: those followed by ``...ignoring``
    (``ignore_errors``), and those of a host that shows up with results again later in the
    same play, which with ansible's strategies only happens after a ``rescue`` (a failed
    host is otherwise removed from the play). Handler results do not count as showing up
    again, as ``force_handlers`` runs handlers on hosts that did fail.
    """

    def __init__(
        self, expected: int | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        # how many task banners the last finished run of this playbook printed, and the
        # clock the elapsed time is read from: each progress line then says both
        self._expected, self._clock = expected, clock
        self._started = clock() if clock else 0.0
        self._play: str | None = None
        self._play_number = 0
        self._task: str | None = None
        self._in_handler = False
        self._task_count = 0
        self._failures: list[TaskFailure] = []
        self._failure_play: list[int] = []  # play number of each failure, same index
        self._dropped: set[int] = set()  # indexes into _failures that were ignored/rescued

    @property
    def play(self) -> str | None:
        """Name of the play being run, None before the first PLAY banner."""
        return self._play

    @property
    def task(self) -> str | None:
        """Name of the task (or handler) being run, as in its banner (``role : name``)."""
        return self._task

    @property
    def task_count(self) -> int:
        """TASK and RUNNING HANDLER banners seen so far."""
        return self._task_count

    @property
    def failures(self) -> list[TaskFailure]:
        """The failures that count, in the order they were printed."""
        return [f for i, f in enumerate(self._failures) if i not in self._dropped]

    @property
    def first_failure(self) -> tuple[str, str] | None:
        """``(host, task name)`` of the first failure that counts, None if there is none."""
        failures = self.failures
        if not failures:
            return None
        return failures[0].host, failures[0].task or "(unknown task)"

    def feed(self, line: str) -> str | None:
        """Take one line of output; return a progress line to show when a task starts."""
        text = strip_ansi(line).rstrip()
        if match := _PLAY.match(text):
            self._play, self._task, self._in_handler = match["name"], None, False
            self._play_number += 1
            return None
        if banner := _TASK.match(text) or _HANDLER.match(text):
            self._task, self._in_handler = banner["name"], banner.re is _HANDLER
            self._task_count += 1
            kind = "HANDLER" if self._in_handler else "TASK"
            where = f"PLAY {self._play} | " if self._play is not None else ""
            return f"[task {self._task_count}] {where}{kind} {self._task}{self._so_far()}"
        if _IGNORING.match(text):
            self._ignore_last()
            return None
        if match := _RESULT.match(text):
            host = _host(match["host"])
            if not self._in_handler:
                self._drop_rescued(host)
            if failure := _FAILURE.match(text):
                self._record(failure)
        return None

    def _so_far(self) -> str:
        """How far: "  (of about 2600; 3:12 in)", from the last run's count and the clock."""
        said = [f"of about {self._expected}"] if self._expected else []
        if self._clock:
            minutes, seconds = divmod(int(self._clock() - self._started), 60)
            said.append(f"{minutes}:{seconds:02d} in")
        return f"  ({'; '.join(said)})" if said else ""

    def _record(self, match: re.Match[str]) -> None:
        raw = match["fatal_host"] or match["item_host"]
        self._failures.append(
            TaskFailure(
                host=_host(raw),
                task=self._task,
                play=self._play,
                task_number=self._task_count,
                unreachable=match["kind"] == "UNREACHABLE",
                item=match["item"],
            )
        )
        self._failure_play.append(self._play_number)

    def _ignore_last(self) -> None:
        """``...ignoring`` follows a host's failed task result (after all its failed items,
        for a loop), naming no host: it applies to the latest failure of the current task
        and to the same host's other failures in that task."""
        pending = [
            i
            for i, f in enumerate(self._failures)
            if f.task_number == self._task_count and i not in self._dropped
        ]
        if not pending:
            return
        host = self._failures[pending[-1]].host
        self._dropped.update(i for i in pending if self._failures[i].host == host)

    def _drop_rescued(self, host: str) -> None:
        """A host with results in a later task of the same play had its failure rescued."""
        for i, failure in enumerate(self._failures):
            if (
                failure.host == host
                and i not in self._dropped
                and self._failure_play[i] == self._play_number
                and failure.task_number < self._task_count
            ):
                self._dropped.add(i)


def summarize_failure(recap: dict[str, HostRecap], progress: PlaybookProgress) -> str:
    """One line on why a run failed: the unhealthy hosts and the first task that broke.

    The first failure is taken among hosts the recap calls unhealthy, so that an error the
    playbook handled in a way the stdout does not show still cannot be blamed.
    """
    bad = [h for h in recap.values() if not h.healthy]
    if bad:
        described = []
        for h in bad:
            counts = {"failed": h.failed, "unreachable": h.unreachable}
            shown = ", ".join(f"{name}={n}" for name, n in counts.items() if n)
            described.append(f"{h.host} ({shown})")
        head = f"failed hosts: {', '.join(described)}"
        names = {h.host for h in bad}
        first = next((f for f in progress.failures if f.host in names), None)
    else:
        head = "no failed or unreachable hosts in the recap"
        first = next(iter(progress.failures), None)
    if first is None:
        return f"{head}; first failed task: not seen in the output"
    return f"{head}; first failed task: {first.task or '(unknown task)'} on {first.host}"
