"""Two runs wanting the same kubespray checkout at once (two targets, the notebook beside
`fab`) take turns: the second waits on the cache's lock instead of fetching into the clone
the first is writing (one of them found FETCH_HEAD gone under `pytest -n 2`). The source is
a small git repository made here; the waiting is seen in /proc/locks, not timed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gourmetops.kubespray import checkout

CHILD = """
import sys
from gourmetops.kubespray import checkout
checkout.STATE_DIR = __import__("pathlib").Path(sys.argv[1])
print(checkout.controller_checkout(sys.argv[2], "release-test"))
"""


def _source(tmp_path: Path) -> str:
    repo = tmp_path / "src"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "release-test", str(repo)], check=True)
    (repo / "requirements.txt").write_text("ansible==9.13.0\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    return str(repo)


def _waiting_on(path: Path, pid: int) -> bool:
    """/proc/locks shows `pid` blocked (a "->" line) on the lock file's inode."""
    inode = os.stat(path).st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and str(pid) in fields and f":{inode}" in line.split("->")[1]:
            return True
    return False


def test_a_second_checkout_waits_for_the_first(tmp_path, monkeypatch):
    source = _source(tmp_path)
    state = tmp_path / "state"
    monkeypatch.setattr(checkout, "STATE_DIR", state)
    dest = checkout._checkout_dir(source, "release-test")
    lock = Path(f"{dest}.lock")
    with checkout._held(dest):  # the first run, mid-clone
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(state), source],
            stdout=subprocess.PIPE,
            text=True,
        )
        while not _waiting_on(lock, child.pid):
            if child.poll() is not None:
                pytest.fail(f"the second checkout did not wait: exit {child.returncode}")
            os.sched_yield()
        assert not dest.exists()  # nothing written while the first holds the cache
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0 and out.strip() == str(dest)
    assert (dest / "requirements.txt").read_text() == "ansible==9.13.0\n"


def test_the_lock_file_is_never_followed(tmp_path, monkeypatch):
    monkeypatch.setattr(checkout, "STATE_DIR", tmp_path)
    dest = checkout._checkout_dir("/nonexistent", "release-test")
    dest.parent.mkdir(parents=True)
    victim = tmp_path / "victim"
    Path(f"{dest}.lock").symlink_to(victim)
    with pytest.raises(OSError), checkout._held(dest):
        pass
    assert not victim.exists()
