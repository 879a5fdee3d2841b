"""What a pyinfra run tells `fab`, read back: the JSON lines our callback handler
(gourmetops/pyinfra_events.py, in pyinfra's process) appends to the file named by
GOURMETOPS_PYINFRA_EVENTS, followed while pyinfra runs and condensed for the console: one
line per operation with the hosts it changed, failures in full, a line of totals.

No pyinfra import here: `fab` reads the events without loading pyinfra (or gevent).

    {"event": "connect_error", "host": "node2", "error": "Could not connect (...)"}
    {"event": "op_host", "op": "Install git", "index": 3, "total": 41, "host": "node1",
     "status": "changed"}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENTS_VARIABLE = "GOURMETOPS_PYINFRA_EVENTS"  # set by `fab`: where the handler appends
DRY_VARIABLE = "GOURMETOPS_PYINFRA_DRY"  # set by `fab`: "1" for a dry run, "0" otherwise
VERBOSE_VARIABLE = "GOURMETOPS_VERBOSE"  # "1": pyinfra's whole output on the console too
SAID_PREFIX = "gourmetops: "  # how our deploys' shell commands name the cause of a failure

Event = dict[str, Any]


class EventsFile:
    """The events file followed while pyinfra writes it: each read returns the whole lines
    added since the last (a line still being written waits for the next read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self.seen = False  # whether pyinfra's process ever made the file

    def read_new(self) -> list[Event]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.seen = True
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]


def read_events(path: Path) -> list[Event] | None:
    """Every event of a finished run, or None when the run made no events file (pyinfra
    stopped before our inventory module ran)."""
    events = EventsFile(path)
    found = events.read_new()
    return found if events.seen else None


# pyinfra's ConnectError messages, "<what> (<why>)" (pyinfra/connectors/ssh.py), the same
# words as its "[host] <what> (<why>)" log line.
CONNECT_ERROR = (
    r"(?P<what>SSH host key error|SSH error|Could not connect"
    r"|Could not resolve hostname|Connection error|EOF error|Authentication error)"
    r"(?: \((?P<why>.*)\))?"
)
HOST_KEY_CHANGED = "SSH host key changed"
# pyinfra's CLI line when it stopped the whole run (pyinfra_cli/exceptions.py WrappedError).
RUN_ABORTED = r"^--> (?:Operation error|pyinfra error)(?: in \S+ line \d+)?: (?P<why>.+)$"


def connect_failure(what: str, why: str | None) -> str:
    """A host pyinfra could not connect to, in the words explain_failures reads."""
    said = HOST_KEY_CHANGED if what == "SSH host key error" else "could not connect over SSH"
    return said + (f" ({why})" if why else "")


def _connect_error(error: str) -> str:
    found = re.fullmatch(CONNECT_ERROR, error.strip(), re.S)
    return connect_failure(found["what"], found["why"]) if found else connect_failure("", error)


def failed_hosts(events: Iterable[Event]) -> dict[str, str]:
    """Hosts the run could not reach or an operation failed on: host -> why (the first
    `gourmetops:` line the failing command printed, when it printed one)."""
    failed: dict[str, str] = {}
    for event in events:
        if event["event"] == "connect_error":
            failed[event["host"]] = _connect_error(event["error"])
        elif event["event"] == "op_host" and event["status"] == "error":
            said = event.get("said") or [_op_failed(event)]
            failed.setdefault(event["host"], said[0])
    return failed


MAX_SAID = 300  # a command's last line quoted in the one-line summary


def _op_failed(event: Event) -> str:
    """A failed operation that printed no `gourmetops:` line: its name and the last line it
    printed (the shell's or the tool's own words, e.g. "awk: read error (Is a directory)")."""
    lines = [str(line).strip() for line in event.get("output") or []]
    last = next((line for line in reversed(lines) if line), "")
    if len(last) > MAX_SAID:
        last = last[: MAX_SAID - 3] + "..."
    return f"{event.get('op') or 'an operation'} failed" + (f": {last}" if last else "")


def aborted_because(events: Iterable[Event]) -> str | None:
    """pyinfra's own line when it stopped the whole run (an error while planning), as its
    CLI logged it; None when it did not."""
    for event in events:
        found = re.search(RUN_ABORTED, event.get("text", ""), re.M)
        if event["event"] == "aborted" and found:
            return found["why"].strip()
    return None


def _hosts(names: list[str]) -> str:
    return ", ".join(names)


def op_line(index: int, total: int, name: str, results: dict[str, str]) -> str:
    """`  [3/41] Install docker-ce: changed on node1, node2; no change on node3`: an
    operation's outcome per host, a host it did not apply to counted as unchanged."""
    by: dict[str, list[str]] = {}
    for host, status in results.items():
        by.setdefault("unchanged" if status == "skipped" else status, []).append(host)
    parts = []
    if by.get("changed"):
        parts.append(f"changed on {_hosts(by['changed'])}")
    if by.get("error"):
        parts.append(f"FAILED on {_hosts(by['error'])}")
    if by.get("ignored"):
        parts.append(f"failed (ignored) on {_hosts(by['ignored'])}")
    same = by.get("unchanged", [])
    if same and not parts:
        parts.append(f"ok on {len(same)} host{'s' if len(same) > 1 else ''} (no change)")
    elif same:
        parts.append(f"no change on {_hosts(same)}")
    return f"  [{index}/{total}] {name}: {'; '.join(parts) or 'no host ran it'}"


@dataclass
class _Op:
    index: int
    total: int
    name: str
    results: dict[str, str] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)  # failing hosts' output, as printed


@dataclass
class Condensed:
    """Events in, lines for people out: connections, our deploys' warnings and each
    operation as it ends; errors with their output in full; totals at the end."""

    connected: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    op: _Op | None = None
    outcomes: dict[str, int] = field(default_factory=dict)  # per operation: worst status
    fed: bool = False

    def feed(self, event: Event) -> list[str]:
        self.fed = True
        kind = event["event"]
        if kind == "connect":
            self.connected.append(event["host"])
            return []
        lines = self._connections()
        if kind == "connect_error":
            self.unreachable.append(event["host"])
            lines.append(f"  {event['host']}: {event['error']}")
        elif kind == "said":
            lines.append(f"  {event['text']}")
        elif kind in ("op_start", "op_host"):
            lines += self._op_host(event) if kind == "op_host" else self._start(event)
        elif kind == "op_end":
            lines += self._end()
        return lines

    def _connections(self) -> list[str]:
        if not self.connected:
            return []
        line = f"  connected to {_hosts(self.connected)}"
        self.connected = []
        return [line]

    def _start(self, event: Event) -> list[str]:
        lines = self._end()  # an operation whose end was not reported (a run cut short)
        self.op = _Op(event["index"], event["total"], event["op"])
        return lines

    def _op_host(self, event: Event) -> list[str]:
        lines = []
        if self.op is None or self.op.name != event["op"]:
            lines = self._start(event)
        assert self.op is not None
        self.op.results[event["host"]] = event["status"]
        if event["status"] in ("error", "ignored"):
            said = event.get("output") or ["(no output; see the run log)"]
            self.op.output += [f"    {event['host']}: {line}" for line in said]
        return lines

    def _end(self) -> list[str]:
        op, self.op = self.op, None
        if op is None:
            return []
        statuses = set(op.results.values())
        worst = next((s for s in ("error", "changed") if s in statuses), "unchanged")
        self.outcomes[worst] = self.outcomes.get(worst, 0) + 1
        return [op_line(op.index, op.total, op.name, op.results), *op.output]

    def finish(self) -> list[str]:
        """The lines still held, then the totals (operations, by their worst outcome); none
        when pyinfra reported nothing (it stopped before connecting)."""
        lines = self._connections() + self._end()
        if not self.fed:
            return lines
        done = sum(self.outcomes.values())
        total = (
            f"  {done} operation{'s' if done != 1 else ''}: "
            f"{self.outcomes.get('changed', 0)} changed something, "
            f"{self.outcomes.get('unchanged', 0)} changed nothing, "
            f"{self.outcomes.get('error', 0)} failed"
        )
        if self.unreachable:
            total += f"; not reached: {_hosts(self.unreachable)}"
        return [*lines, total]
