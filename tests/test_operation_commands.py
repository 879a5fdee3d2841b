"""The one commands of `small_file`, `authorized_head_key` and the background key generation
(gourmetops.operations), run by this machine's own shell in a scratch directory as the
connecting user: the same coreutils (mktemp, base64, chown, chmod, mv -T), flock and
ssh-keygen a node's shell runs. No lab."""

from __future__ import annotations

import fcntl
import grp
import os
import pwd
import stat
import subprocess
from pathlib import Path

import pytest
from pyinfra.api import OperationError

from gourmetops.operations import (
    MAX_SMALL_FILE,
    authorise_key_command,
    replace_file_command,
    start_keygen_command,
    wait_keygen_command,
    was_of,
)

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
TEXT = "# gourmetops: node1 is the jump host\nMaxStartups 10:30:100\n$HOME `x` 'q' \"d\"\n"


def _sh(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True)


def test_writes_the_bytes_mode_and_owner_and_leaves_nothing_beside(tmp_path):
    path = tmp_path / "sshd_config.d" / "60-gourmetops-jump.conf"
    ran = _sh(replace_file_command(str(path), TEXT, "640", USER, GROUP))
    assert ran.returncode == 0, ran.stderr
    assert path.read_text() == TEXT
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    ran = _sh(replace_file_command(str(path), "MaxStartups 20:30:100\n", "644", USER, GROUP))
    assert ran.returncode == 0 and path.read_text() == "MaxStartups 20:30:100\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_link_at_the_path_is_replaced_not_written_through(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("untouched\n")
    path = tmp_path / "60-gourmetops-jump.conf"
    path.symlink_to(target)
    ran = _sh(replace_file_command(str(path), TEXT, "644", USER, GROUP))
    assert ran.returncode == 0, ran.stderr
    assert not path.is_symlink() and path.read_text() == TEXT
    assert target.read_text() == "untouched\n"


def test_a_failed_write_fails_the_command_and_leaves_the_old_file(tmp_path):
    path = tmp_path / "60-gourmetops-jump.conf"
    path.write_text("old\n")
    ran = _sh(replace_file_command(str(path), TEXT, "644", "no-such-user-here", GROUP))
    assert ran.returncode != 0
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # the temporary file went


def test_content_over_the_bound_is_refused_before_any_command():
    with pytest.raises(OperationError, match="over 65536"):
        replace_file_command("/tmp/x", "x" * (MAX_SMALL_FILE + 1), "644", "root", "root")


def test_every_value_reaches_the_shell_quoted(tmp_path):
    path = tmp_path / "a dir; touch pwned" / "it's $(id).conf"
    ran = _sh(replace_file_command(str(path), TEXT, "644", USER, GROUP))
    assert ran.returncode == 0, ran.stderr
    assert path.read_text() == TEXT and not Path("pwned").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a dir; touch pwned"]


KEY = "ssh-rsa AAAAB3Nza+C1yc2E/AAA= cc@node1"


def _authorise(home: Path, key: str = KEY) -> subprocess.CompletedProcess[str]:
    return _sh(authorise_key_command(str(home), USER, key))


def test_the_key_is_authorised_once_with_the_modes_sshd_wants(tmp_path):
    keys = tmp_path / ".ssh" / "authorized_keys"
    assert _authorise(tmp_path).returncode == 0
    assert keys.read_text() == KEY + "\n"
    assert stat.S_IMODE(keys.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    # Another comment, the same key: sshd reads type and base64 only, so nothing is added.
    assert _authorise(tmp_path, "ssh-rsa AAAAB3Nza+C1yc2E/AAA= renamed").returncode == 0
    assert keys.read_text() == KEY + "\n"


def test_the_key_goes_on_a_line_of_its_own_and_the_others_stay(tmp_path):
    keys = tmp_path / ".ssh" / "authorized_keys"
    keys.parent.mkdir(mode=0o755)
    keys.write_text("ssh-ed25519 AAAAC3other user@laptop")  # no newline at the end
    keys.chmod(0o644)
    assert _authorise(tmp_path).returncode == 0
    assert keys.read_text() == f"ssh-ed25519 AAAAC3other user@laptop\n{KEY}\n"
    assert stat.S_IMODE(keys.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600


@pytest.mark.parametrize("linked", [".ssh", ".ssh/authorized_keys"])
def test_a_link_at_either_path_is_refused(tmp_path, linked):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "authorized_keys").write_text("untouched\n")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    if linked == ".ssh":
        (home / ".ssh").rmdir()
        (home / ".ssh").symlink_to(elsewhere)
    else:
        (home / linked).symlink_to(elsewhere / "authorized_keys")
    ran = _authorise(home)
    assert ran.returncode == 1 and "is a link; refusing to write through it" in ran.stderr
    assert (elsewhere / "authorized_keys").read_text() == "untouched\n"


@pytest.mark.parametrize("key", ["", "ssh-rsa", "ssh-rsa AAAA\nssh-rsa BBBB", "x " * 9000])
def test_anything_but_one_key_line_is_refused(tmp_path, key):
    with pytest.raises(OperationError, match="not one public key line"):
        authorise_key_command(str(tmp_path), USER, key)


@pytest.fixture
def key_dir(tmp_path):
    directory = tmp_path / "a .ssh; $(touch pwned)"
    directory.mkdir(mode=0o700)
    return directory


def test_the_key_started_in_the_background_is_collected_whole(key_dir):
    key = key_dir / "id_rsa"
    (key_dir / "id_rsa.gourmetops-new").write_text("left by a killed run\n")
    started = _sh(start_keygen_command(str(key), 2048))
    assert started.returncode == 0 and started.stdout == "", started.stderr
    waited = _sh(wait_keygen_command(str(key)))
    assert waited.returncode == 0, waited.stderr
    assert sorted(p.name for p in key_dir.iterdir()) == ["id_rsa", "id_rsa.pub"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True, text=True)
    assert derived.stdout.split()[:2] == (key_dir / "id_rsa.pub").read_text().split()[:2]
    assert not Path("pwned").exists()


def test_a_generation_running_already_is_waited_for_not_doubled(key_dir):
    key = key_dir / "id_rsa"
    fd = os.open(key_dir, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a generator still running would hold it
    try:
        started = _sh(start_keygen_command(str(key), 2048))
        assert started.returncode == 0 and "being generated already" in started.stdout
        late = _sh(wait_keygen_command(str(key), timeout_s=0))
        assert late.returncode == 1 and "still being generated after 0 s" in late.stderr
    finally:
        os.close(fd)
    assert list(key_dir.iterdir()) == []  # nothing was started beside the holder
    gone = _sh(wait_keygen_command(str(key)))
    assert gone.returncode == 1 and "generating" in gone.stderr and "failed" in gone.stderr


def test_a_pair_made_since_the_planning_read_is_kept_not_replaced(key_dir):
    """An earlier run's generator can finish between this run's planning read (no key yet)
    and its start: that pair may be authorised already, so it is kept as it is."""
    key = key_dir / "id_rsa"
    assert _sh(start_keygen_command(str(key), 2048)).returncode == 0
    assert _sh(wait_keygen_command(str(key))).returncode == 0
    made = (key.read_bytes(), (key_dir / "id_rsa.pub").read_bytes())
    again = _sh(start_keygen_command(str(key), 2048))
    assert again.returncode == 0 and "generated since this run looked; kept" in again.stdout
    assert _sh(wait_keygen_command(str(key))).returncode == 0
    assert (key.read_bytes(), (key_dir / "id_rsa.pub").read_bytes()) == made
    (key_dir / "id_rsa.pub").unlink()  # half a pair (a run killed between the renames)
    assert _sh(start_keygen_command(str(key), 2048)).returncode == 0
    assert _sh(wait_keygen_command(str(key))).returncode == 0
    assert key.read_bytes() != made[0]


def test_a_failed_generation_is_reported_in_ssh_keygens_words(key_dir):
    key = key_dir / "id_rsa"
    assert _sh(start_keygen_command(str(key), 100)).returncode == 0
    waited = _sh(wait_keygen_command(str(key)))
    assert waited.returncode == 1
    assert "failed" in waited.stderr and "RSA key length" in waited.stderr
    assert list(key_dir.iterdir()) == []


def test_a_link_at_the_keys_path_is_replaced_not_written_through(key_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("untouched\n")
    for name in ("id_rsa", "id_rsa.pub", "id_rsa.gourmetops-keygen.log"):
        (key_dir / name).symlink_to(elsewhere)
    key = key_dir / "id_rsa"
    assert _sh(start_keygen_command(str(key), 2048)).returncode == 0
    assert _sh(wait_keygen_command(str(key))).returncode == 0
    assert not key.is_symlink() and not (key_dir / "id_rsa.pub").is_symlink()
    assert elsewhere.read_text() == "untouched\n"


def test_a_file_changed_since_the_planning_read_is_left_alone_and_named(tmp_path):
    path = tmp_path / "known_hosts"
    path.write_text("read while planning\n")
    was = was_of(path.read_bytes())
    path.write_text("written since\n")
    ran = _sh(replace_file_command(str(path), TEXT, "644", USER, GROUP, was))
    assert ran.returncode == 1 and f"{path} changed since this run read it" in ran.stderr
    assert path.read_text() == "written since\n"
    assert _sh(replace_file_command(str(path), TEXT, "644", USER, GROUP, was_of(None))).returncode
    ran = _sh(replace_file_command(str(path), TEXT, "644", USER, GROUP, was_of(b"written since\n")))
    assert ran.returncode == 0 and path.read_text() == TEXT


def test_a_file_absent_while_planning_is_written_only_if_still_absent(tmp_path):
    path = tmp_path / "known_hosts"
    (tmp_path / "elsewhere").write_text("x\n")
    path.symlink_to(tmp_path / "elsewhere")  # a link planted since: not absent any more
    assert _sh(replace_file_command(str(path), TEXT, "644", USER, GROUP, was_of(None))).returncode
    path.unlink()
    ran = _sh(replace_file_command(str(path), TEXT, "644", USER, GROUP, was_of(None)))
    assert ran.returncode == 0 and path.read_text() == TEXT
