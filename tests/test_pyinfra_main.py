"""The stages' pyinfra launcher: pyinfra's own CLI, with installed entry points read once.
No lab: what changes is how entry points are looked up, checked against importlib's own
answers and by counting the scans while pyinfra's CLI is imported for real."""

from __future__ import annotations

import importlib.metadata as metadata
import subprocess
import sys

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
