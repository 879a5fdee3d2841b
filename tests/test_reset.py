"""`fab reset`: kubespray's reset.yml only after the target's name is typed (or --yes),
refused with no input or a wrong name before anything is contacted, and a dry run that
shows the playbook with reset_confirmation and what stays. The Chameleon target here has a
loopback floating IP where nothing listens: a run that got past the question would fail
to connect, not reach a cloud. The real run is in tests/test_kubespray_stage.py (lab)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT, STATE_DIR

ENV = {"GOURMETOPS_FLOATING_IP": "127.0.0.10"}
FAB = str(Path(sys.executable).with_name("fab"))


def fab_with_input(stdin: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """`fab ARGS` as a separate process: its stdin closed (None) or holding `stdin`."""
    return subprocess.run(
        [FAB, *args],
        cwd=PROJECT_ROOT,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        timeout=120,
    )


def state(target: str) -> set[tuple[str, int]]:
    root = STATE_DIR / target
    return {(str(p), p.stat().st_size) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("stdin", "said"),
    [
        (None, "error: reset of 'chameleon' not confirmed: no input to read; type the target's "
               "name when asked, or pass --yes. Nothing was changed"),
        ("lab\n", "error: reset of 'chameleon' not confirmed: 'lab' is not the target's name. "
                  "Nothing was changed"),
    ],
    ids=["no-stdin", "wrong-name"],
)  # fmt: skip
def test_reset_is_refused_without_the_targets_name(stdin, said):
    before = state("chameleon")
    ran = fab_with_input(stdin, "reset", "--target", "chameleon")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stderr.strip() == said
    assert "Traceback" not in ran.stderr and "ansible-playbook" not in ran.stdout
    assert state("chameleon") == before  # no lock, no log: refused before the run began


def test_reset_dry_shows_the_confirmed_playbook_and_what_stays():
    ran = fab_with_input(None, "reset", "--target", "chameleon", "--dry")
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    assert "would run on node1 (chameleon), up to 1 time(s):" in out
    assert "--become --become-user=root -e reset_confirmation=yes reset.yml" in out
    assert "would forget node1:~/.local/state/gourmetops/cluster.json and " in out
    assert "kept: the registry's images" in out and "kept: kubespray's checkout" in out


def test_typing_the_name_goes_on_to_the_run():
    """The right name passes the question: the run then fails to reach node1 (nothing listens
    on the loopback floating IP), which shows it went on."""
    ran = fab_with_input("chameleon\n", "reset", "--target", "chameleon")
    assert ran.returncode == 1
    assert "not confirmed" not in ran.stderr and "Traceback" not in ran.stderr
    assert "Type 'chameleon' to go on: " in ran.stdout
    last = ran.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "reset failed on target chameleon: reset.yml failed after 1 attempt(s): node1: could "
        "not connect over SSH ("
    ), last
