"""One changing run per target at a time. `fab` holds `.state/<target>/run.lock` with flock
for the run's life and writes its holder there (PID, task, start). The kernel drops the
flock when the holder dies, so a killed run's lock is free by construction: the next run
takes it over and says whose it was. Dry and read-only runs take no lock."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gourmetops.errors import GourmetopsError


class LockHeld(GourmetopsError):
    """Another run is changing the same target; the message names it."""

    exit_code = 75  # EX_TEMPFAIL: try again when the other run is done


def _holder(text: str) -> str:
    try:
        h = json.loads(text)
        return f"PID {h['pid']} (`fab {h['task']}`, started {h['started']})"
    except (ValueError, KeyError, TypeError):
        return "an unknown run"


@contextmanager
def run_lock(
    state_dir: Path, target: str, task: str, echo: Callable[[str], None] = print
) -> Iterator[None]:
    path = state_dir / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            raise LockHeld(
                f"target {target} is being changed by another run: {_holder(f.read())}; "
                "wait for it to finish (or stop it), then run again"
            ) from None
        f.seek(0)
        previous = f.read()
        if previous.strip():
            echo(
                f"taking over a stale lock on target {target} from {_holder(previous)}: "
                "that run ended without releasing it"
            )
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "task": task, "started": started}))
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            f.flush()
            fcntl.flock(f, fcntl.LOCK_UN)
