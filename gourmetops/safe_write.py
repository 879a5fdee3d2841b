"""The one way the project writes a file on the controller: the content goes to a temp file
with a unique name in the target's directory (never through a link), is flushed to disk,
then renamed over the final path. The final path is refused, before anything is written,
when it is a symbolic link (to anywhere), a directory or another non-regular file, or a
tracked file of this repository. Threads writing one path at once each use their own temp.

    >>> write_text(STATE_DIR / "lab" / "ssh_config", text, what="ssh_config")
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import BinaryIO, TextIO

from gourmetops import PROJECT_ROOT
from gourmetops.errors import InputError


class UnsafePath(InputError):
    """A path the project was about to write is refused; the message names it and the fix."""


@cache
def tracked_files() -> frozenset[Path]:
    """The repository's tracked files, resolved (empty when it is not a git checkout)."""
    root = PROJECT_ROOT.resolve()
    proc = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True)
    if proc.returncode != 0:
        return frozenset()
    return frozenset(root / os.fsdecode(p) for p in proc.stdout.split(b"\0") if p)


def _final(path: Path) -> Path:
    """`path` with its directory resolved and its last part kept as it is (not followed)."""
    return Path(os.path.abspath(path)).parent.resolve() / Path(os.path.abspath(path)).name


def refuse_unsafe(path: Path, what: str) -> None:
    """Refuse to write `path` (named `what` in the message) where a write would follow a
    link, replace a directory or a device, or change a tracked source of the project."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UnsafePath(f"{what} {path}: cannot be written: {exc.strerror}") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise UnsafePath(
            f"{what} {path}: is a symbolic link; refusing to write through it "
            "(remove the link, or choose another path)"
        )
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"{what} {path}: is a directory; give a file path")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UnsafePath(f"{what} {path}: is not a regular file; give a file path")
    if _final(path) in tracked_files():
        raise UnsafePath(
            f"{what} {path}: is a tracked file of the project; choose a path outside its "
            "sources, e.g. under .state/ or /tmp"
        )


def ensure_dir(directory: Path, what: str) -> Path:
    """`directory` made (with its parents) when missing; a file in its place is refused."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UnsafePath(
            f"{what} {directory}: is not a directory; move it away and run again"
        ) from None
    except OSError as exc:
        raise UnsafePath(f"{what} {directory}: cannot be made: {exc.strerror}") from None
    if not directory.is_dir():
        raise UnsafePath(f"{what} {directory}: is not a directory; move it away and run again")
    return directory


@contextlib.contextmanager
def atomic(path: Path, what: str, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A new file to write `path`'s content into; renamed over `path` when the block ends
    without an error, removed otherwise (the old file stays as it was)."""
    refuse_unsafe(path, what)
    ensure_dir(path.parent, f"{what}'s directory")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UnsafePath(f"{what} {path}: cannot be written: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        refuse_unsafe(path, what)  # planted while we wrote: still not followed, but refused
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_bytes(path: Path, data: bytes, what: str, mode: int = 0o644) -> Path:
    """`data` in `path`, whole or not at all (see `atomic`)."""
    try:
        with atomic(path, what, mode) as f:
            f.write(data)
    except UnsafePath:
        raise
    except OSError as exc:
        raise UnsafePath(f"{what} {path}: cannot be written: {exc.strerror}") from None
    return path


def write_text(path: Path, text: str, what: str, mode: int = 0o644) -> Path:
    return write_bytes(path, text.encode(), what, mode)


def open_append(path: Path, what: str) -> TextIO:
    """A log file opened for appending, created when missing, never through a link."""
    refuse_unsafe(path, what)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        why = "is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        raise UnsafePath(f"{what} {path}: cannot be written: {why}") from None
    return os.fdopen(fd, "a", encoding="utf-8")
