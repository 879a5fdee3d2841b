"""What every task shares: the help of the common flags, errors turned into a message and
an exit code in one place, and, for a run that changes a target, its context, lock and log."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from invoke.exceptions import Exit

from gourmetops.app.kubeconfig import DEFAULT_LOCAL_PORT
from gourmetops.errors import GourmetopsError
from gourmetops.runlock import run_lock

if TYPE_CHECKING:
    from gourmetops.context import RunContext

TARGET_HELP = {
    "target": "lab (default) or chameleon",
    "dry": "show what would change, change nothing",
}
KUBE_HELP = {
    **TARGET_HELP,
    "timeout": "seconds to wait for the rollout (default 300)",
    "port": f"local end of the SSH tunnel to the API server (default {DEFAULT_LOCAL_PORT})",
    "dry": "print the objects' diff against the live ones, change nothing",
}


def clean_errors(body: Callable[..., Any]) -> Callable[..., Any]:
    """Our errors (GourmetopsError) name the file, key or host at fault and the fix: show
    the message and exit code, not a traceback."""

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except GourmetopsError as exc:
            raise Exit(f"{exc.prefix}{exc}", exc.exit_code) from None

    return wrapper


class _Tee:
    """A stream that writes to the terminal and the run's log."""

    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, data: str) -> int:
        for s in self.streams:
            s.write(data)
        return len(data)

    def flush(self) -> None:
        for s in self.streams:
            s.flush()

    def isatty(self) -> bool:
        return False


@contextmanager
def _logged(logs: Path, task: str) -> Iterator[None]:
    """Everything the run prints also goes to .state/<target>/logs/<task>-<time>.log."""
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    out, err = sys.stdout, sys.stderr
    with open(path, "a") as log:
        sys.stdout, sys.stderr = _Tee(out, log), _Tee(err, log)  # type: ignore[assignment]
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
