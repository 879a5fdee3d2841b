"""The SSH tunnel to the API server on node1 that the fetched kubeconfig points at: opened
around a task that needs it (api_tunnel), or held in the foreground by `fab tunnel` (hold)."""

from __future__ import annotations

import shlex
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gourmetops.app.kubeconfig import API_PORT, tunnel_command
from gourmetops.errors import GourmetopsError
from gourmetops.output import say
from gourmetops.targets import Target
from gourmetops.unreachable import cause_in, from_ssh
from gourmetops.waiting import poll

OPEN_TIMEOUT = 20.0


class TunnelError(GourmetopsError, RuntimeError):
    """The tunnel did not come up; the message has ssh's own words."""


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def api_tunnel(
    target: Target, local_port: int, echo: Callable[[str], None] = say
) -> Iterator[None]:
    """Open `ssh -L` for the duration (stopped by its PID after), or use one already open."""
    if port_open(local_port):
        echo(f"using what already listens on 127.0.0.1:{local_port} as the API tunnel")
        yield
        return
    head = target.cluster.jump.name
    cmd = tunnel_command(target, local_port, batch=True)
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )

    def opened() -> bool | None:
        if port_open(local_port):
            return True
        if proc.poll() is not None:
            said = proc.stderr.read().strip() if proc.stderr else ""
            if proc.returncode == 255 and cause_in(said):  # ssh never reached node1
                raise from_ssh(target, head, said)
            raise TunnelError(f"ssh tunnel to {head} exited: {said}")
        return None

    try:
        poll(
            opened,
            OPEN_TIMEOUT,
            0.2,
            lambda: TunnelError(f"ssh tunnel to {head} not open after {OPEN_TIMEOUT:.0f}s"),
        )
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def hold(target: Target, local_port: int, dry: bool = False) -> None:
    """`fab tunnel`: the `ssh -L` in the foreground until Ctrl-C (then a clean exit 0), for
    people who would rather not type it; an ssh that ends on its own is one line naming
    node1 and the command to try by hand (ssh's own words are printed just above it)."""
    head = target.cluster.jump.name
    cmd = tunnel_command(target, local_port, foreground=True)
    if dry:
        say(f"would run: {shlex.join(cmd)}")
        return
    if port_open(local_port):
        raise TunnelError(
            f"127.0.0.1:{local_port} already accepts connections (a tunnel already open?); "
            "close it or choose another --port"
        )
    say(
        f"API tunnel: https://127.0.0.1:{local_port} to {head}'s 127.0.0.1:{API_PORT}; "
        "Ctrl-C closes it"
    )
    code, interrupted = _until_interrupted(cmd)
    if interrupted:
        say("tunnel closed")
    elif code != 0:
        raise TunnelError(
            f"ssh could not hold the tunnel through {head} ({target.public_address}), "
            f"exit {code}; try it by hand: {shlex.join(cmd)}"
        )
    else:
        say(f"tunnel closed: ssh to {head} ended")


def _until_interrupted(cmd: list[str]) -> tuple[int, bool]:
    """Run `cmd` until it ends or SIGINT comes (passed on to it, as a terminal's Ctrl-C
    already does): (its exit code, whether SIGINT came)."""
    interrupted = False
    proc: subprocess.Popen[bytes] | None = None

    def on_sigint(_signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        proc = subprocess.Popen(cmd)
        if interrupted:  # came before there was a process to pass it to
            proc.send_signal(signal.SIGINT)
        return proc.wait(), interrupted
    finally:
        signal.signal(signal.SIGINT, previous)
