"""pyinfra's own account of a run, for `fab`: a state callback handler, registered by our
inventory module (pyinfra's CLI has made its State by then, and adds the handler list in
State.init right after: see _add_handler), that appends one JSON line per event to the file
GOURMETOPS_PYINFRA_EVENTS names (format: gourmetops/pyinfra_report.py). Without that
variable (pyinfra run by hand) nothing is registered and nothing written.

An operation's outcome on a host (changed or not, its output) is known only once pyinfra
has completed it, just after the success or error callback: it is written at the next
callback, at the operation's end, or at exit (a run stopped by a failure ends no operation).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
from pathlib import Path
from typing import Any, TextIO

import click
import pyinfra
from pyinfra import logger
from pyinfra.api.host import Host
from pyinfra.api.state import BaseStateCallback, State
from pyinfra.context import ctx_state

from gourmetops.pyinfra_report import EVENTS_VARIABLE, SAID_PREFIX
from gourmetops.safe_write import open_append

# pyinfra's own packages: a record logged from anywhere else comes from the deploy files and
# the modules they use (ours), which pyinfra loads by relative paths.
_PYINFRA = os.path.dirname(os.path.abspath(pyinfra.__file__))
_PYINFRA_CLI = os.path.join(os.path.dirname(_PYINFRA), "pyinfra_cli")  # not imported here


def _op_name(state: State, op_hash: str) -> str:
    return ", ".join(sorted(state.op_meta[op_hash].names)) or "Operation"


def _where(state: State, op_hash: str) -> dict[str, Any]:
    """The operation's name and place in the run (`[index/total]` on the console)."""
    order = state.get_op_order()
    index = order.index(op_hash) + 1 if op_hash in order else len(order)
    return {"op": _op_name(state, op_hash), "index": index, "total": len(order)}


def _outcome(state: State, host: Host, op_hash: str) -> dict[str, Any] | None:
    """A completed operation on a host: changed, unchanged, error (ignored or not) and a
    failure's output; None while pyinfra has not completed it."""
    data = state.ops[host].get(op_hash)
    if data is None or not data.operation_meta.is_complete():
        return None
    meta = data.operation_meta
    if meta.did_succeed():
        return {"status": "changed" if meta.did_change() else "unchanged"}
    output = [*meta.stdout_lines, *meta.stderr_lines]
    said = [
        line.strip()[len(SAID_PREFIX) :] for line in output if line.strip().startswith(SAID_PREFIX)
    ]
    ignored = bool(data.global_arguments.get("_ignore_errors"))
    return {"status": "ignored" if ignored else "error", "output": output, "said": said}


class _Writer:
    """The events file, and the operations whose outcome is not complete yet."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.pending: list[tuple[State, Host, str]] = []

    def write(self, event: dict[str, Any]) -> None:
        self.out.write(json.dumps(event) + "\n")
        self.out.flush()

    def flush_pending(self) -> None:
        waiting = []
        for state, host, op_hash in self.pending:
            outcome = _outcome(state, host, op_hash)
            if outcome is None:
                waiting.append((state, host, op_hash))
            else:
                where = _where(state, op_hash)
                self.write({"event": "op_host", **where, "host": host.name, **outcome})
        self.pending = waiting


_writer: _Writer | None = None  # one pyinfra run per process: its events file


def _write(event: dict[str, Any] | None = None) -> _Writer:
    """The outcomes completed since the last callback written, then `event`."""
    assert _writer is not None, "register() first"
    _writer.flush_pending()
    if event is not None:
        _writer.write(event)
    return _writer


class EventsHandler(BaseStateCallback):
    """pyinfra's callbacks (static, as its base class has them) as events."""

    @staticmethod
    def host_connect(state: State, host: Host) -> None:
        _write({"event": "connect", "host": host.name})

    @staticmethod
    def host_connect_error(state: State, host: Host, error: Any) -> None:
        said = error.args[0] if getattr(error, "args", None) else error
        _write({"event": "connect_error", "host": host.name, "error": str(said)})

    @staticmethod
    def host_disconnect(state: State, host: Host) -> None:
        _write()  # the run is over (finished or stopped): the last outcomes

    @staticmethod
    def operation_start(state: State, op_hash: str) -> None:
        _write({"event": "op_start", **_where(state, op_hash)})

    @staticmethod
    def operation_host_start(state: State, host: Host, op_hash: str) -> None:
        skipped = op_hash not in state.ops[host]  # pyinfra's "Skipped": not this host's
        where = _where(state, op_hash)
        _write(
            {"event": "op_host", **where, "host": host.name, "status": "skipped"}
            if skipped
            else None
        )

    @staticmethod
    def operation_host_success(
        state: State, host: Host, op_hash: str, retry_count: int = 0
    ) -> None:
        _write().pending.append((state, host, op_hash))

    @staticmethod
    def operation_host_error(
        state: State, host: Host, op_hash: str, retry_count: int = 0, max_retries: int = 0
    ) -> None:
        _write().pending.append((state, host, op_hash))

    @staticmethod
    def operation_end(state: State, op_hash: str) -> None:
        _write({"event": "op_end", **_where(state, op_hash)})


class _Said(logging.Handler):
    """pyinfra's log records that are events of their own: a warning from our deploys (as
    `said`), and the line pyinfra's CLI logs when it stops the whole run (`aborted`)."""

    def __init__(self, events: _Writer) -> None:
        super().__init__(logging.WARNING)
        self.events = events

    def emit(self, record: logging.LogRecord) -> None:
        text = click.unstyle(record.getMessage()).strip()
        where = os.path.abspath(record.pathname)
        if where == os.path.join(_PYINFRA_CLI, "exceptions.py"):
            self.events.write({"event": "aborted", "text": text})
        elif not where.startswith((_PYINFRA + os.sep, _PYINFRA_CLI + os.sep)):
            self.events.write({"event": "said", "level": record.levelname.lower(), "text": text})


def _add_handler(state: State) -> None:
    """EventsHandler added to the State's handlers. pyinfra's CLI makes that list in
    State.init, just after loading the inventory (us) and before connecting: our handler is
    added when that init returns, on this State object only."""
    if getattr(state, "initialised", False):  # a pyinfra that inits first: add it now
        state.add_callback_handler(EventsHandler())
        return
    init = state.init

    def init_then_add(*args: Any, **kwargs: Any) -> None:
        init(*args, **kwargs)
        state.add_callback_handler(EventsHandler())

    setattr(state, "init", init_then_add)  # noqa: B010 - mypy refuses assigning a method


def register() -> None:
    """Report this pyinfra run's events to the file `fab` named, if it named one and
    pyinfra's CLI is running us (its State exists); otherwise do nothing."""
    global _writer
    path = os.environ.get(EVENTS_VARIABLE)
    if not path or not ctx_state.isset() or _writer is not None:  # once per pyinfra run
        return
    _writer = _Writer(open_append(Path(path), "pyinfra events file"))
    _add_handler(ctx_state.get())
    logger.addHandler(_Said(_writer))
    atexit.register(_writer.flush_pending)  # a run stopped by a failure ends no operation
