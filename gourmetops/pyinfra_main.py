"""pyinfra's command line as the stages start it (`python -m gourmetops.pyinfra_main`, the
same arguments as `python -m pyinfra`), started and ended faster; docs/benchmarks.md
measures both on a no-op prepare.

- Importing pyinfra's CLI monkey-patches gevent, and gevent asks importlib.metadata for its
  plugins 25 times, each a scan of every installed distribution's metadata (114 in the dev
  virtualenv; about 0.15 s). The installed set cannot change during one run: the first
  full scan answers every later query.
- After pyinfra returned and the exit handlers ran, tearing the interpreter down (freeing
  every object, the gevent hub) took about 0.15 s more. As mypy's `hard_exit` does, the
  streams are flushed and the process ends at once, unless a thread other than the main
  one is still running (then the usual exit waits for it).
- A node whose sshd dies while a command's channel is being opened: paramiko re-raises
  what ended its transport, an EOFError, which pyinfra does not count as the host's
  failure (only TimeoutError, OSError, SSHException): the whole run crashed instead of
  naming the node. The EOFError is turned into paramiko's SSHException."""

from __future__ import annotations

import atexit
import functools
import importlib.metadata as metadata
import os
import sys
import threading
from typing import Any

_scan = metadata.entry_points


@functools.cache
def _every() -> Any:
    """Every installed entry point, as `entry_points()` gives them (deduplicated)."""
    return _scan()


def entry_points(**params: Any) -> Any:
    """`importlib.metadata.entry_points`, answered from one scan."""
    return _every().select(**params) if params else _scan()


def exit_status(code: object) -> int:
    """The status `sys.exit(code)` ends a process with (a message is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def hard_exit(code: object) -> None:
    """End the process now, as `sys.exit(code)` would end it, without the teardown."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(not t.daemon and t.is_alive() for t in others):
        raise SystemExit(code)
    status = exit_status(code)
    atexit._run_exitfuncs()  # logging's shutdown, paramiko's transports
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def channel_errors_as_ssh_errors() -> None:
    """Make `Transport.open_channel` raise SSHException where it re-raised an EOFError."""
    from paramiko import SSHException, Transport

    opener = Transport.open_channel
    if getattr(opener, "eof_as_ssh_error", False):
        return

    @functools.wraps(opener)
    def open_channel(self: Transport, *args: Any, **kwargs: Any) -> Any:
        try:
            return opener(self, *args, **kwargs)
        except EOFError as exc:
            raise SSHException("the SSH connection closed (EOF): sshd went away") from exc

    open_channel.eof_as_ssh_error = True  # type: ignore[attr-defined]
    Transport.open_channel = open_channel  # type: ignore[method-assign]


def main() -> None:
    metadata.entry_points = entry_points
    channel_errors_as_ssh_errors()
    from pyinfra_cli.main import main as pyinfra

    try:
        pyinfra()
    except SystemExit as e:
        hard_exit(e.code)
    hard_exit(0)


if __name__ == "__main__":
    main()
