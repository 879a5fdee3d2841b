"""`fab tunnel`: the `ssh -L` held in the foreground until Ctrl-C. No lab here: the Chameleon
target at a loopback floating IP, so no packet leaves the machine. `fab` runs as a process of
its own, as a user starts it, so ssh's own stderr and the exit code are what a user sees.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT, STATE_DIR

FAB = str(Path(sys.executable).parent / "fab")
SSH_CONFIG = STATE_DIR / "chameleon" / "ssh_config"


def env(floating_ip: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GOURMETOPS_")}
    return {
        **clean,
        "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent/chameleon.local.yaml",
        "GOURMETOPS_FLOATING_IP": floating_ip,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, floating_ip: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [FAB, "tunnel", "--target", "chameleon", "--port", str(port), *extra],
        cwd=PROJECT_ROOT,
        env=env(floating_ip),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


def ssh_argv(port: int) -> str:
    return (
        f"ssh -F {SSH_CONFIG} -N -L 127.0.0.1:{port}:127.0.0.1:6443 "
        "-o ExitOnForwardFailure=yes node1"
    )


def test_dry_prints_the_command_and_connects_nowhere():
    fab = start(16443, "127.0.0.10", "--dry")
    out, err = fab.communicate(timeout=60)
    assert (fab.returncode, out, err) == (0, f"would run: {ssh_argv(16443)}\n", "")


def test_ssh_failing_is_one_line_naming_node1_and_the_command():
    """127.0.0.10: loopback, where no sshd listens (connection refused at once)."""
    port = free_port()
    fab = start(port, "127.0.0.10")
    out, err = fab.communicate(timeout=60)
    assert fab.returncode == 1
    assert out == (
        f"API tunnel: https://127.0.0.1:{port} to node1's 127.0.0.1:6443; Ctrl-C closes it\n"
    )
    assert err.splitlines() == [
        "ssh: connect to host 127.0.0.10 port 22: Connection refused",
        "error: ssh could not hold the tunnel through node1 (127.0.0.10), exit 255; "
        f"try it by hand: {ssh_argv(port)}",
    ]


def test_a_port_already_taken_is_refused_before_ssh():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        fab = start(port, "127.0.0.10")
        out, err = fab.communicate(timeout=60)
    assert (fab.returncode, out) == (1, "")
    assert err == (
        f"error: 127.0.0.1:{port} already accepts connections (a tunnel already open?); "
        "close it or choose another --port\n"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="listening on port 22 needs root")
def test_ctrl_c_closes_the_tunnel_and_exits_0():
    """ssh connects to a loopback listener on port 22 that never answers, so it is still
    running when Ctrl-C comes; SIGINT goes to the whole process group, as a terminal's does,
    once the listener has seen ssh's connection (the event the test waits for)."""
    with socket.socket() as sshd:
        sshd.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sshd.bind(("127.0.0.28", 22))
        sshd.listen()
        sshd.settimeout(60)  # a hang becomes a failure; the verdict is the exit and output
        port = free_port()
        fab = start(port, "127.0.0.28")
        connection, _ = sshd.accept()
        os.killpg(fab.pid, signal.SIGINT)
        out, err = fab.communicate(timeout=60)
        connection.close()
    assert fab.returncode == 0, err
    assert out == (
        f"API tunnel: https://127.0.0.1:{port} to node1's 127.0.0.1:6443; Ctrl-C closes it\n"
        "tunnel closed\n"
    )
    assert "Traceback" not in err
