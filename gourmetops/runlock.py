"""One changing run per target at a time. `fab` holds `.state/<target>/run.lock` with flock
for the run's life and writes its holder there (PID, task, start). The kernel drops the
flock when the holder dies, so a killed run's lock is free by construction: the next run
takes it over and says whose it was. Dry and read-only runs take no lock."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from gourmetops.errors import GourmetopsError
from gourmetops.safe_write import UnsafePath, ensure_dir


class LockHeld(GourmetopsError):
    """Another run is changing the same target; the message names it."""

    exit_code = 75  # EX_TEMPFAIL: try again when the other run is done


def _holder(text: str) -> str:
    try:
        h = json.loads(text)
        return f"PID {h['pid']} (`fab {h['task']}`, started {h['started']})"
    except (ValueError, KeyError, TypeError, RecursionError):
        return "an unknown run"


def _open_lock(path: Path) -> BinaryIO:
    """The lock file, created when missing; never through a link, and only a regular file
    (the lock is written in place: a link would have us truncate whatever it points to)."""
    ensure_dir(path.parent, "run lock's directory")
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        why = {errno.ELOOP: "is a symbolic link", errno.EISDIR: "is a directory"}.get(
            exc.errno or 0, exc.strerror
        )
        raise UnsafePath(f"run lock {path}: {why}; remove it and run again") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePath(f"run lock {path}: is not a regular file; remove it and run again")
    return os.fdopen(fd, "r+b")


def _read(f: BinaryIO) -> str:
    f.seek(0)
    return f.read(4096).decode("utf-8", "replace")


@contextmanager
def run_lock(
    state_dir: Path, target: str, task: str, echo: Callable[[str], None] = print
) -> Iterator[None]:
    with _open_lock(state_dir / "run.lock") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(
                f"target {target} is being changed by another run: {_holder(_read(f))}; "
                "wait for it to finish (or stop it), then run again"
            ) from None
        previous = _read(f)
        if previous.strip():
            echo(
                f"taking over a stale lock on target {target} from {_holder(previous)}: "
                "that run ended without releasing it"
            )
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "task": task, "started": started}).encode())
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            f.flush()
            fcntl.flock(f, fcntl.LOCK_UN)
