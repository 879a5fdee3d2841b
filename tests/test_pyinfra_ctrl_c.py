"""A pyinfra that does not stop after Ctrl-C does not hold `fab` forever: once the Ctrl-C is
noted, it gets CTRL_C_GRACE_S to end, then fab kills it (its own child, by PID) and says the
stage was interrupted. A real child process that ignores SIGINT stands in for the pyinfra
seen hanging once in CI (its exit lost among its greenlets); no lab, no pyinfra."""

from __future__ import annotations

import os

import pytest

from gourmetops import pyinfra_run
from gourmetops.pyinfra_run import Interrupted

# Ignores SIGINT (as the hung pyinfra did, in effect), sends the Ctrl-C to fab's process
# (this test's), writes its PID, then sleeps far longer than any test would wait.
STUCK = "trap '' INT; echo $$ > {pid}; echo started; kill -INT $PPID; exec sleep 3600"


def test_a_pyinfra_stuck_after_ctrl_c_is_stopped_and_the_run_reported_interrupted(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(pyinfra_run, "CTRL_C_GRACE_S", 0.0)  # no wait: the event decides
    pid_file = tmp_path / "pid"
    command = ["sh", "-c", STUCK.format(pid=pid_file)]
    with pytest.raises(Interrupted):
        pyinfra_run._run(command, tmp_path / "events.jsonl", dry=False)
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped by fab's side
        os.kill(pid, 0)


def test_a_pyinfra_that_ends_on_its_own_is_left_alone(tmp_path):
    code, said, events = pyinfra_run._run(
        ["sh", "-c", "echo done; exit 3"], tmp_path / "events.jsonl", dry=False
    )
    assert (code, said, events) == (3, "done\n", None)
