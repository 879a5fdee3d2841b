"""The stages' pyinfra launcher: pyinfra's own CLI, with installed entry points read once.
No lab: what changes is how entry points are looked up, checked against importlib's own
answers and by counting the scans while pyinfra's CLI is imported for real."""

from __future__ import annotations

import importlib.metadata as metadata
import socket
import subprocess
import sys
import threading

import paramiko
import pytest

from gourmetops import PROJECT_ROOT, pyinfra_main
from gourmetops.pyinfra_run import pyinfra_command


def _names(eps) -> list[tuple[str, str, str]]:
    return sorted((ep.group, ep.name, ep.value) for ep in eps)


def test_every_group_is_answered_as_importlib_answers_it():
    groups = metadata.entry_points().groups
    assert {"console_scripts", "pyinfra.connectors"} <= groups
    for group in groups:
        assert _names(pyinfra_main.entry_points(group=group)) == _names(
            metadata.entry_points(group=group)
        ), group
    fab = pyinfra_main.entry_points(group="console_scripts", name="fab")
    assert _names(fab) == [("console_scripts", "fab", "fabric.main:program.run")]
    assert _names(pyinfra_main.entry_points(group="no.such.group")) == []


SCANS = """
import importlib.metadata as md, sys
from gourmetops import pyinfra_main
scans = []
def counted(**params):
    scans.append(params)
    return md.__dict__["_stock"](**params)
md._stock, md.entry_points = md.entry_points, counted
if sys.argv[1] == "launcher":
    pyinfra_main._scan = counted
    md.entry_points = pyinfra_main.entry_points
import pyinfra_cli.main
print(len(scans))
"""


def test_importing_pyinfras_cli_scans_the_installed_entry_points_once():
    def scans(how: str) -> int:
        ran = subprocess.run(
            [sys.executable, "-c", SCANS, how], cwd=PROJECT_ROOT, capture_output=True, text=True
        )
        assert ran.returncode == 0, ran.stderr
        return int(ran.stdout)

    assert scans("stock") >= 10  # gevent's patching looks its plugins up per event
    assert scans("launcher") == 1


def test_the_stages_run_pyinfras_cli_through_the_launcher():
    cmd = pyinfra_command("lab", "prepare")
    assert cmd[1:3] == ["-m", "gourmetops.pyinfra_main"]
    version = [sys.executable, "-m", "pyinfra", "--version"]
    ours = subprocess.run([*cmd[:3], "--version"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    stock = subprocess.run(version, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert ours.returncode == 0 and ours.stdout == stock.stdout != ""


def test_exit_status_is_what_sys_exit_would_give(capsys):
    assert [pyinfra_main.exit_status(c) for c in (None, 0, 3)] == [0, 0, 3]
    assert pyinfra_main.exit_status("--> pyinfra error: no deploy") == 1
    assert capsys.readouterr().err == "--> pyinfra error: no deploy\n"


ENDING = """
import atexit, sys, threading
from gourmetops.pyinfra_main import hard_exit
atexit.register(lambda: print("exit handler ran"))
print("no newline, still buffered", end="")
go = threading.Event()
if sys.argv[1] == "thread":
    worker = threading.Thread(target=lambda: (go.wait(), print(" thread finished")))
    worker.start()
try:
    hard_exit(int(sys.argv[2]))
finally:
    go.set()  # reached only when hard_exit left the exit to the interpreter
"""


def test_the_hard_exit_flushes_runs_exit_handlers_and_keeps_the_status():
    ran = subprocess.run(
        [sys.executable, "-c", ENDING, "alone", "4"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,  # a pipe: block-buffered, as under fab
        text=True,
    )
    assert (ran.returncode, ran.stdout) == (4, "no newline, still bufferedexit handler ran\n")


def test_a_running_thread_gets_the_usual_exit_that_waits_for_it():
    ran = subprocess.run(
        [sys.executable, "-c", ENDING, "thread", "5"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert ran.returncode == 5
    assert ran.stdout == "no newline, still buffered thread finished\nexit handler ran\n"


class _ClosesOnChannelRequest(paramiko.ServerInterface):
    """A real SSH server (paramiko's) that lets anyone in, then drops the connection when a
    channel is asked for: the node's sshd dying while pyinfra opens a command's channel."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_allowed_auths(self, username: str) -> str:
        return "none"

    def check_auth_none(self, username: str) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        self.sock.shutdown(socket.SHUT_RDWR)
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def _open_session_as_the_server_dies() -> None:
    client_sock, server_sock = socket.socketpair()
    server = paramiko.Transport(server_sock)
    server.add_server_key(paramiko.ECDSAKey.generate())
    # (an event: the server negotiates in its own thread, the client here)
    server.start_server(threading.Event(), server=_ClosesOnChannelRequest(server_sock))
    client = paramiko.Transport(client_sock)
    try:
        client.start_client(timeout=60)
        client.auth_none("cc")
        client.open_session(timeout=60)
    finally:
        client.close()
        server.close()


def test_a_connection_closed_while_a_channel_opens_is_an_ssh_error(monkeypatch):
    """paramiko re-raises the transport's EOFError, which pyinfra would not count as the
    host's failure; the launcher turns it into the SSHException pyinfra does count."""
    monkeypatch.setattr(paramiko.Transport, "open_channel", paramiko.Transport.open_channel)
    with pytest.raises(EOFError):
        _open_session_as_the_server_dies()
    pyinfra_main.channel_errors_as_ssh_errors()
    pyinfra_main.channel_errors_as_ssh_errors()  # once only, however often it is called
    with pytest.raises(paramiko.SSHException, match=r"closed \(EOF\): sshd went away") as e:
        _open_session_as_the_server_dies()
    assert isinstance(e.value.__cause__, EOFError)
