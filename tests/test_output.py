"""The run's output (gourmetops.output): a logged run's log gets what its console shows,
said lines and a child's streamed lines alike, stdout and stderr stay apart, and the log is
never written through a link."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from gourmetops import output, run
from gourmetops.kubespray.playbook import PlaybookRun, run_with_retries
from gourmetops.pyinfra_report import read_events
from gourmetops.pyinfra_run import Interrupted, _run
from gourmetops.safe_write import UnsafePath

PLAYBOOK = """PLAY [Bootstrap hosts] *********
TASK [Check python] *********
ok: [node1]
PLAY RECAP *********
node1 : ok=1 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0
"""


class FakeConnection:
    """Fabric's Connection as run_with_retries uses it: the playbook's output written to
    out_stream in chunks that split lines, as a channel delivers them."""

    original_host = "node1"

    def run(self, command: str, **kwargs: object) -> SimpleNamespace:
        out = kwargs["out_stream"]
        for i in range(0, len(PLAYBOOK), 7):
            out.write(PLAYBOOK[i : i + 7])  # type: ignore[attr-defined]
        return SimpleNamespace(stdout=PLAYBOOK, exited=0)


def _child(*lines: str) -> list[str]:
    """A child process printing `lines` on its stdout."""
    return [sys.executable, "-c", f"print({chr(10).join(lines)!r})"]


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(run.time, "strftime", lambda fmt: "20250101-120000")
    monkeypatch.delenv("GOURMETOPS_VERBOSE", raising=False)
    return tmp_path / "logs"


def test_the_run_log_gets_what_the_console_shows(logs, tmp_path, capsys):
    conn = FakeConnection()
    playbook = PlaybookRun("kubespray", "myenv", "inventory/hosts.yaml", "facts.yml")
    with run._logged(logs, "cluster"):
        assert output.logging_to_file()
        output.say("==> stage 1/7: prepare")
        output.say("warning: using the cached ref", err=True)
        output.say("a", "b", sep="-", end="!\n")
        run_with_retries(conn, playbook, tmp_path / "playbook-logs", retries=0)  # type: ignore[arg-type]
    output.say("after the run: console only")
    said = capsys.readouterr()
    log = (logs / "cluster-20250101-120000.log").read_text()
    assert said.err == "warning: using the cached ref\n"
    out = said.out.splitlines()
    assert out[:2] == ["==> stage 1/7: prepare", "a-b!"]
    assert out[2].startswith("==> facts.yml on node1, attempt 1/1; log: ")
    assert out[3].startswith("[task 1] PLAY Bootstrap hosts | TASK Check python")
    assert out[4] == "after the run: console only"
    assert log.splitlines() == [out[0], said.err.strip(), *out[1:4]]
    assert "after the run" not in log and not output.logging_to_file()
    # the playbook's every byte in its own log, not in the run's
    (kept,) = (tmp_path / "playbook-logs").glob("facts-*.log")
    assert kept.read_text() == PLAYBOOK and "PLAY RECAP" not in log


def test_the_run_log_is_in_the_order_said(logs, capsys):
    with run._logged(logs, "prepare"):
        output.say("one")
        output.say("two", err=True)
        output.stream("three\n")
    said = capsys.readouterr()
    assert (said.out, said.err) == ("one\nthree\n", "two\n")
    assert (logs / "prepare-20250101-120000.log").read_text() == "one\ntwo\nthree\n"


def test_pyinfra_lines_whole_in_the_log_condensed_on_the_console(logs, tmp_path, capsys):
    """A child's streamed lines: in a logged run, whole in the log only (the console gets
    the condensed lines from its events); outside one, or verbose, on the console."""
    cmd = _child("--> Loading inventory", "[node1] Could not connect")
    with run._logged(logs, "prepare"):
        exited, said, _ = _run(cmd, tmp_path / "events.jsonl", dry=False)
    assert exited == 0 and said == "--> Loading inventory\n[node1] Could not connect\n"
    log = (logs / "prepare-20250101-120000.log").read_text()
    assert log == said and capsys.readouterr().out == ""
    _run(cmd, tmp_path / "events.jsonl", dry=True)  # a dry run keeps no log: shown whole
    assert capsys.readouterr().out == said


CTRL_C_CHILD = """
import os, signal, sys
def stop(*_):
    print({last!r}) if {last!r} else None
    sys.exit(0)  # as pyinfra does on Ctrl-C
signal.signal(signal.SIGINT, stop)
print("--> Starting operation: registry:2", flush=True)
os.kill(os.getppid(), signal.SIGINT)  # the terminal's Ctrl-C reaches both
os.kill(os.getpid(), signal.SIGINT)
signal.pause()
"""


@pytest.mark.parametrize("last", ["Exiting upon user request!", ""])
def test_ctrl_c_during_pyinfra_is_an_interruption_whatever_pyinfra_said(
    logs, tmp_path, capsys, last
):
    """Ctrl-C while pyinfra runs: noted, not raised mid-read, so no line of pyinfra's is
    lost, and the run is an interruption even when pyinfra's last words are missing (CI
    saw pyinfra exit 0 without them). The child is a stand-in for pyinfra that signals
    this process as a terminal would: a real process-group SIGINT would reach pytest's
    other workers."""
    cmd = [sys.executable, "-c", CTRL_C_CHILD.format(last=last)]
    with run._logged(logs, "registry"), pytest.raises(Interrupted):
        _run(cmd, tmp_path / "events.jsonl", dry=False)
    expected = "--> Starting operation: registry:2\n" + (f"{last}\n" if last else "")
    assert (logs / "registry-20250101-120000.log").read_text() == expected
    assert capsys.readouterr().out == ""  # condensed: the console gets the events only


def test_verbose_pyinfra_lines_go_to_both(logs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GOURMETOPS_VERBOSE", "1")
    with run._logged(logs, "prepare"):
        _, said, _ = _run(_child("--> Loading inventory"), tmp_path / "events.jsonl", dry=False)
    assert capsys.readouterr().out == said == "--> Loading inventory\n"
    assert (logs / "prepare-20250101-120000.log").read_text() == said


def test_the_log_file_handler_is_removed_when_the_run_fails(logs, capsys):
    with pytest.raises(RuntimeError), run._logged(logs, "prepare"):
        output.say("before")
        raise RuntimeError("stage failed")
    assert not output.logging_to_file()
    output.say("after")
    assert (logs / "prepare-20250101-120000.log").read_text() == "before\n"
    assert capsys.readouterr().out == "before\nafter\n"


def test_a_run_log_that_is_a_link_is_refused_and_not_followed(logs, tmp_path, capsys):
    victim = tmp_path / "victim"
    victim.write_text("kept\n")
    logs.mkdir()
    (logs / "prepare-20250101-120000.log").symlink_to(victim)
    with pytest.raises(UnsafePath, match="is a symbolic link"), run._logged(logs, "prepare"):
        output.say("never said")
    assert victim.read_text() == "kept\n" and not output.logging_to_file()
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "made-through-the-link")
    with pytest.raises(UnsafePath), output.to_file(dangling):
        pass
    assert not (tmp_path / "made-through-the-link").exists()
    assert capsys.readouterr().out == ""


def test_console_only_and_log_only(logs, capsys):
    with run._logged(logs, "prepare"):
        output.say("summed up", only="console")
        output.stream("raw\n", only="log")
    assert capsys.readouterr().out == "summed up\n"
    assert (logs / "prepare-20250101-120000.log").read_text() == "raw\n"


EVENTS_CHILD = """
import json, os
with open(os.environ["GOURMETOPS_PYINFRA_EVENTS"], "a") as f:
    f.write(json.dumps({"event": "connect", "host": "node1"}) + "\\n")
    print("--> Connecting to hosts", flush=True)
    f.write(json.dumps({"event": "connect_error", "host": "node2", "error": "refused"}) + "\\n")
print("--> done")
"""


def test_the_events_followed_during_the_run_are_the_files_whole(logs, tmp_path, capsys):
    """What the stage reads failures from is what was followed while pyinfra ran (no
    second read of the file), the same events whether condensed or not; no file, None."""
    cmd = [sys.executable, "-c", EVENTS_CHILD]
    with run._logged(logs, "prepare"):
        _, _, condensed = _run(cmd, tmp_path / "a.jsonl", dry=False)
    _, _, shown_whole = _run(cmd, tmp_path / "b.jsonl", dry=True)
    assert condensed == shown_whole == read_events(tmp_path / "a.jsonl")
    assert [e["event"] for e in condensed or []] == ["connect", "connect_error"]
    assert _run(_child("--> Loading inventory"), tmp_path / "c.jsonl", dry=True)[2] is None
