"""A run that changes a target, as `fab` and the notebook's API make it: the context built
first (a bad cluster.yaml or floating IP stops there), one such run per target at a time,
and its whole output kept in .state/<target>/logs/ while still shown where it runs."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gourmetops.runlock import run_lock
from gourmetops.safe_write import ensure_dir, open_append

if TYPE_CHECKING:
    from gourmetops.context import RunContext


class _Tee:
    """A stream that writes to the terminal and the run's log."""

    def __init__(self, terminal: TextIO, log: TextIO) -> None:
        self.streams = (terminal, log)

    def write(self, data: str) -> int:
        for s in self.streams:
            s.write(data)
        return len(data)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()

    def isatty(self) -> bool:
        return False


def split_output() -> tuple[TextIO, TextIO] | None:
    """(the terminal, the log) of the changing run in progress, apart: for a stage whose
    output is too long for the terminal, kept whole in the log and summed up on the
    terminal. None outside such a run, and in a dry run, which keeps no log."""
    return sys.stdout.streams if isinstance(sys.stdout, _Tee) else None


@contextmanager
def _logged(logs: Path, task: str) -> Iterator[None]:
    """Everything the run prints also goes to .state/<target>/logs/<task>-<time>.log."""
    ensure_dir(logs, "run logs directory")
    path = logs / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    out, err = sys.stdout, sys.stderr
    with open_append(path, "run log") as log:
        sys.stdout, sys.stderr = _Tee(out, log), _Tee(err, log)
        try:
            yield
        finally:
            sys.stdout, sys.stderr = out, err


@contextmanager
def changing(target: str, task: str, dry: bool) -> Iterator[RunContext]:
    """The run's context for a task that changes its target (unless `dry`): built first (a
    bad cluster.yaml or floating IP stops here), then one such run per target at a time
    (the second is refused, naming the first), its whole output kept in the logs."""
    from gourmetops.context import RunContext  # local: slow (pydantic, pyinfra), run time only

    ctx = RunContext(target)
    if dry:
        yield ctx
        return
    with run_lock(ctx.state_dir, target, task), _logged(ctx.state_dir / "logs", task):
        yield ctx
