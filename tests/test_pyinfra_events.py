"""pyinfra's own account of a run (gourmetops/pyinfra_events.py) and what `fab` makes of it
(gourmetops/pyinfra_report.py): a real pyinfra process on the @local connector and an @ssh
host on a loopback port nothing listens on, the JSON lines it wrote, and the console's
condensed lines from a recorded events file. No lab, no address off this machine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT
from gourmetops.pyinfra_report import (
    DRY_VARIABLE,
    EVENTS_VARIABLE,
    Condensed,
    EventsFile,
    op_line,
    read_events,
)
from gourmetops.pyinfra_run import aborted_because, failed_hosts, is_dry_run

RECORDED = PROJECT_ROOT / "tests" / "fixtures" / "pyinfra_events" / "prepare-node2-down.jsonl"

INVENTORY = """
from gourmetops.pyinfra_events import register

register()
hosts = ["@local", ("nowhere", {{"ssh_hostname": "127.0.0.1", "ssh_port": {port}}})]
"""
DEPLOY = """
from pyinfra import logger
from pyinfra.operations import files, server

logger.warning("mind the gap")

server.shell(name="Say hello", commands=["echo hello"])
files.directory(name="The scratch directory is there", path={scratch!r})
server.shell(name="Fail on purpose", commands=["echo 'gourmetops: it broke' >&2; exit 3"])
"""


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pyinfra(where: Path, events: Path | None) -> subprocess.CompletedProcess[str]:
    """pyinfra's CLI on the scratch inventory and deploy, as `fab` runs it (events named,
    through the stages' launcher, which ends the process without the interpreter's
    teardown) or as a user types it (no variable, `python -m pyinfra`)."""
    env = {k: v for k, v in os.environ.items() if k not in (EVENTS_VARIABLE, "SSH_AUTH_SOCK")}
    env["HOME"] = str(where)  # no ~/.ssh/config of the developer's steers the ssh host
    if events is not None:
        env[EVENTS_VARIABLE] = str(events)
    return subprocess.run(
        [sys.executable, "-m", "gourmetops.pyinfra_main" if events else "pyinfra"]
        + ["inventory.py", "deploy.py", "-y"],
        cwd=where,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("pyinfra-events")
    (where / "inventory.py").write_text(INVENTORY.format(port=_closed_port()))
    (where / "deploy.py").write_text(DEPLOY.format(scratch=str(where)))
    return where


@pytest.fixture(scope="module")
def run(scratch: Path) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    events = scratch / "events" / "run.jsonl"
    events.parent.mkdir()
    proc = _pyinfra(scratch, events)
    found = read_events(events)
    assert found is not None, proc.stdout
    return proc, found


def test_a_real_run_reports_each_connection_and_operation_outcome(run):
    proc, events = run
    assert proc.returncode == 1, proc.stdout
    by_kind: dict[str, list[dict]] = {}
    for event in events:
        by_kind.setdefault(event["event"], []).append(event)
    assert by_kind["connect"] == [{"event": "connect", "host": "@local"}]
    # A warning the deploy logs (as ours do): said once, while pyinfra planned.
    assert by_kind["said"] == [{"event": "said", "level": "warning", "text": "mind the gap"}]
    [refused] = by_kind["connect_error"]
    assert refused["host"] == "nowhere"
    assert refused["error"].startswith("Could not connect (") and "127.0.0.1" in refused["error"]
    outcomes = [(e["op"], e["index"], e["total"], e["status"]) for e in by_kind["op_host"]]
    assert outcomes == [
        ("Say hello", 1, 3, "changed"),
        ("The scratch directory is there", 2, 3, "unchanged"),
        ("Fail on purpose", 3, 3, "error"),
    ]
    failed = by_kind["op_host"][-1]
    assert failed["output"] == ["gourmetops: it broke"] and failed["said"] == ["it broke"]
    assert [e["op"] for e in by_kind["op_start"]] == [o[0] for o in outcomes]
    assert [e["op"] for e in by_kind["op_end"]] == ["Say hello", "The scratch directory is there"]
    # The last host failed: pyinfra stops the whole run, and says why in its CLI's line.
    assert by_kind["aborted"] == [
        {"event": "aborted", "text": "--> pyinfra error: No hosts remaining!"}
    ]


def test_events_and_pyinfra_text_name_the_same_failures(run):
    """The events and the text fallback (a run that made no events file) agree."""
    proc, events = run
    from_events = failed_hosts(proc.stdout, events)
    assert from_events == failed_hosts(proc.stdout)
    assert from_events["@local"] == "it broke"
    assert from_events["nowhere"].startswith("could not connect over SSH ([Errno None] Unable")
    assert aborted_because(proc.stdout, events) == aborted_because(proc.stdout)
    assert aborted_because(proc.stdout, events) == "No hosts remaining!"


def test_by_hand_nothing_is_written_and_pyinfra_says_what_it_always_says(scratch):
    before = sorted(p.name for p in scratch.iterdir())
    proc = _pyinfra(scratch, None)
    assert proc.returncode == 1, proc.stdout
    assert sorted(p.name for p in scratch.iterdir()) == before
    assert "--> Starting operation: Say hello" in proc.stdout
    assert "[@local] gourmetops: it broke" in " ".join(proc.stdout.split())


def test_an_events_file_that_is_a_link_is_refused(tmp_path, scratch):
    """The handler writes through gourmetops.safe_write: a link planted in its place is
    not followed (pyinfra stops at the inventory with our error)."""
    target = tmp_path / "elsewhere"
    target.write_text("")
    link = tmp_path / "events.jsonl"
    link.symlink_to(target)
    proc = _pyinfra(scratch, link)
    assert proc.returncode != 0
    assert "is a symbolic link" in proc.stdout and target.read_text() == ""


def test_no_events_file_when_pyinfra_stopped_before_the_inventory(tmp_path):
    assert read_events(tmp_path / "never.jsonl") is None


def test_the_events_file_is_read_as_it_grows_whole_lines_only(tmp_path):
    path = tmp_path / "events.jsonl"
    follow = EventsFile(path)
    assert follow.read_new() == [] and not follow.seen
    path.write_text('{"event": "connect", "host": "node1"}\n{"event": "conn')
    assert follow.read_new() == [{"event": "connect", "host": "node1"}]
    with path.open("a") as f:
        f.write('ect", "host": "node2"}\n')
    assert follow.read_new() == [{"event": "connect", "host": "node2"}]
    assert follow.read_new() == []


def test_a_recorded_run_condensed_for_the_console():
    condensed = Condensed()
    lines = [line for e in read_events(RECORDED) or [] for line in condensed.feed(e)]
    lines += condensed.finish()
    assert lines == [
        "  connected to node1",
        "  node2: Could not connect ([Errno None] Unable to connect to port 22 on 10.254.1.12)",
        "  connected to node3",
        "  [node1] no SSH host key from node2 (10.254.1.12); it is left out of known_hosts "
        "until a rerun reaches it",
        "  [1/4] ~/.ssh exists and is private: ok on 2 hosts (no change)",
        "  [2/4] Generate the cluster key ~/.ssh/id_rsa (RSA 4096): changed on node1; "
        "no change on node3",
        "  [3/4] Update the apt cache: failed (ignored) on node3; no change on node1",
        "    node3: E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease",
        "  [4/4] Restart dockerd with the new daemon.json: changed on node1; FAILED on node3",
        "    node3: Job for docker.service failed.",
        "    node3: gourmetops: dockerd did not restart with the new /etc/docker/daemon.json: "
        "invalid; the previous /etc/docker/daemon.json is back and dockerd runs again with it",
        "  4 operations: 1 changed something, 2 changed nothing, 1 failed; not reached: node2",
    ]
    # The recorded run's failures, as `fab` explains them.
    assert failed_hosts("", read_events(RECORDED)) == {
        "node2": "could not connect over SSH ([Errno None] Unable to connect to port 22 on "
        "10.254.1.12)",
        "node3": "dockerd did not restart with the new /etc/docker/daemon.json: invalid; the "
        "previous /etc/docker/daemon.json is back and dockerd runs again with it",
    }


def test_a_run_cut_short_still_shows_its_last_operation():
    """pyinfra stopped by a failure ends no operation: its outcome still gets its line."""
    condensed = Condensed()
    events = [
        {"event": "op_start", "op": "Fail", "index": 1, "total": 2},
        {"event": "aborted", "text": "--> pyinfra error: No hosts remaining!"},
        {"event": "op_host", "op": "Fail", "index": 1, "total": 2, "host": "n1", "status": "error"},
    ]
    lines = [line for e in events for line in condensed.feed(e)] + condensed.finish()
    assert lines == [
        "  [1/2] Fail: FAILED on n1",
        "    n1: (no output; see the run log)",
        "  1 operation: 0 changed something, 0 changed nothing, 1 failed",
    ]


def test_one_line_per_operation_counts_hosts_when_nothing_changed():
    assert op_line(3, 41, "Install git", {"node1": "unchanged", "node2": "skipped"}) == (
        "  [3/41] Install git: ok on 2 hosts (no change)"
    )
    assert op_line(5, 41, "Install docker-ce", dict.fromkeys(("n1", "n2", "n3"), "changed")) == (
        "  [5/41] Install docker-ce: changed on n1, n2, n3"
    )


@pytest.mark.parametrize(
    ("variable", "argv", "dry"),
    [
        ("1", ["pyinfra", "inventories/lab.py", "deploys/prepare.py"], True),
        ("0", ["pyinfra", "inventories/lab.py", "deploys/prepare.py", "-y"], False),
        (None, ["pyinfra", "inventories/lab.py", "deploys/prepare.py", "--dry"], True),
        (None, ["pyinfra", "inventories/lab.py", "deploys/prepare.py", "-y"], False),
    ],
    ids=["fab-dry", "fab-real", "by-hand-dry", "by-hand-real"],
)
def test_the_dry_flag_comes_from_fab_as_data_and_from_argv_by_hand(
    monkeypatch, variable, argv, dry
):
    if variable is None:
        monkeypatch.delenv(DRY_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(DRY_VARIABLE, variable)
    monkeypatch.setattr(sys, "argv", argv)
    assert is_dry_run() is dry


def test_a_failure_without_a_gourmetops_line_is_named_by_its_operation_and_last_words():
    def error(op: str, output: list[str]) -> dict:
        return {"event": "op_host", "op": op, "host": "node1", "status": "error", "output": output}

    known_hosts = error("Pin the host keys", ["", "awk: read error (Is a directory)", "  "])
    assert failed_hosts("", [known_hosts]) == {
        "node1": "Pin the host keys failed: awk: read error (Is a directory)"
    }
    assert failed_hosts("", [error("Reload sshd", [])]) == {"node1": "Reload sshd failed"}
    [why] = failed_hosts("", [error("Chatty", ["x" * 5000])]).values()
    assert why.startswith("Chatty failed: xxx") and why.endswith("...") and len(why) < 400
