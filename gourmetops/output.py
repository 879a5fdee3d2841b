"""What a run shows, and the run's log: one logger. Its console handler writes each message
as it is (no level, no time: the lines are the ones `print` wrote) to the sys.stdout or
sys.stderr of the moment (pytest's capsys and a notebook's kernel swap them); inside a
logged run (gourmetops.run) a second handler appends the same text to the run log.

A child process's streamed output (pyinfra's lines, ansible-playbook's through Fabric's
out_stream) goes through the same logger with `stream()`: one path to both places, so
there is no stdout swap and no tee; `only=` keeps a message on the console or in the log.

    >>> say("==> pre-checks")            # console and run log
    >>> say("warning: ...", err=True)    # sys.stderr, and the run log
    >>> stream(line, only="log")         # pyinfra's raw line, condensed on the console
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TextIO

from gourmetops.safe_write import open_append

Only = Literal["console", "log"] | None

LOGGER = logging.getLogger("gourmetops.output")
LOGGER.setLevel(logging.INFO)
LOGGER.propagate = False  # the root logger's handlers (a notebook's, pytest's) would add a copy


class _Handler(logging.Handler):
    """Writes each message as it is, flushed, to the stream `where` names for it; a write
    that fails raises as `print` would (a closed pipe stops the run, not logging's notice)."""

    def __init__(self, where: Callable[[logging.LogRecord], TextIO], skip: Only) -> None:
        super().__init__()
        self.where, self.skip = where, skip

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "only", None) == self.skip:
            return
        stream = self.where(record)
        stream.write(record.getMessage())
        stream.flush()


def _console_stream(record: logging.LogRecord) -> TextIO:
    return sys.stderr if getattr(record, "err", False) else sys.stdout


CONSOLE = _Handler(_console_stream, skip="log")
LOGGER.addHandler(CONSOLE)


def stream(text: str, *, err: bool = False, only: Only = None) -> None:
    """`text` as it is (a child's chunk or line, its newline included) to the console and,
    in a logged run, to the run log."""
    if text:  # handled whatever logging.disable() or the level says: this is not a diagnostic
        record = LOGGER.makeRecord(LOGGER.name, logging.INFO, "", 0, text, (), None)
        record.err, record.only = err, only
        LOGGER.handle(record)


def say(
    *values: object, sep: str = " ", end: str = "\n", err: bool = False, only: Only = None
) -> None:
    """`print` for the run's output: the same text, to the console and the run log."""
    stream(sep.join(map(str, values)) + end, err=err, only=only)


def logging_to_file() -> bool:
    """Whether a run log receives what is said (a logged run is in progress)."""
    return any(isinstance(h, _Handler) and h.skip == "console" for h in LOGGER.handlers)


@contextmanager
def to_file(path: Path, what: str = "run log") -> Iterator[None]:
    """Everything said or streamed meanwhile is appended to `path` too (opened by
    safe_write.open_append: never through a link)."""
    with open_append(path, what) as log:
        handler = _Handler(lambda record: log, skip="console")
        LOGGER.addHandler(handler)
        try:
            yield
        finally:
            LOGGER.removeHandler(handler)


class LineWriter:
    """A file-like for a child's output (Fabric's out_stream): each chunk to `raw`, each
    whole line (without its newline) to `line`, the last partial line kept for the next."""

    def __init__(self, raw: TextIO, line: Callable[[str], None]) -> None:
        self.raw, self.line = raw, line
        self._partial = ""

    def write(self, data: str) -> int:
        self.raw.write(data)
        lines = (self._partial + data).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self.line(line)
        return len(data)

    def flush(self) -> None:
        self.raw.flush()
