"""The SSH tunnel to the API server on node1 that the fetched kubeconfig points at."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gourmetops.app.kubeconfig import tunnel_command
from gourmetops.errors import GourmetopsError
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
    target: Target, local_port: int, echo: Callable[[str], None] = print
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
