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
