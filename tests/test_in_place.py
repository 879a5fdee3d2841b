"""The planning-time read behind prepare's no-op reruns: PathStates' command run by a real
shell on real files here, and every in_place check refusing each way a path can differ
from what its operation would leave (the lab half: tests/test_prepare.py's drift test)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from gourmetops.facts import DirectorySha1s, PathState, PathStates
from gourmetops.in_place import (
    block_in_place,
    block_written,
    container_in_place,
    content_in_place,
    daemon_json_in_place,
    dir_in_sync,
    in_place_dir,
    in_place_file,
    key_authorised,
    stop_and_disable_commands,
    whole_key_pair,
)

MARKER = "# {mark} gourmetops cluster nodes"
BLOCK = ["node1,192.168.1.11 ssh-ed25519 AAAA1", "node2,192.168.1.12 ssh-ed25519 AAAA2"]
KEY = "ssh-rsa AAAAB3Nza+/key= cc@node1"


def read(paths: list[Path], read: list[Path], as_user: str | None = None) -> dict:
    fact = PathStates()
    command = fact.command(tuple(map(str, paths)), tuple(map(str, read)))
    runuser = ["runuser", "-u", as_user, "--"] if as_user else []
    out = subprocess.run(
        [*runuser, "sh", "-c", command.get_raw_value()], capture_output=True, text=True, check=True
    )
    return fact.process(out.stdout.splitlines())


def test_path_states_reads_type_mode_owner_and_bytes_of_awkward_names(tmp_path: Path):
    odd = tmp_path / 'it\'s a "file"; $(touch pwned) |x|'
    odd.write_bytes(b"line one\nline|two\n")
    odd.chmod(0o640)
    empty = tmp_path / "empty"
    empty.touch()
    folder = tmp_path / "dir"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    absent = tmp_path / "absent"
    states = read([odd, empty, folder, absent], read=[odd, empty])
    user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
    assert states[str(odd)] == PathState("file", "640", user, group, b"line one\nline|two\n")
    mode = f"{empty.stat().st_mode & 0o777:o}"
    assert states[str(empty)] == PathState("file", mode, user, group, b"")
    assert states[str(folder)] == PathState("directory", "700", user, group, None)
    assert states[str(absent)] is None
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_an_unreadable_file_is_seen_without_content():
    """Read as an unprivileged user (root reads anything): stat'ed, content None."""
    user = "nobody" if os.geteuid() == 0 else None
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp).chmod(0o755)
        secret = Path(tmp) / "secret"
        secret.write_text("x")
        secret.chmod(0)
        state = read([secret], read=[secret], as_user=user)[str(secret)]
    assert state is not None and state.type == "file" and state.mode == "0"
    assert state.content is None


def test_dir_and_file_checks_refuse_every_difference():
    ok = PathState("directory", "700", "cc", "cc")
    assert in_place_dir(ok, "700") and in_place_dir(ok, "0700", owner="cc")
    assert not in_place_dir(None, "700")
    assert not in_place_dir(PathState("directory", "755", "cc", "cc"), "700")
    assert not in_place_dir(PathState("file", "700", "cc", "cc"), "700")
    assert not in_place_dir(PathState("directory", "700", "root", "cc"), "700", owner="cc")
    assert not in_place_dir(PathState("directory", "700", "cc", "root"), "700", owner="cc")
    key = PathState("file", "600", "cc", "cc")
    assert in_place_file(key, "600") and in_place_file(key, "600", "cc", "cc")
    assert not in_place_file(None, "600")
    assert not in_place_file(PathState("file", "644", "cc", "cc"), "600")
    assert not in_place_file(PathState("symbolic link", "600", "cc", "cc"), "600")
    assert not in_place_file(PathState("file", "600", "root", "cc"), "600", "cc", "cc")
    assert not in_place_file(PathState("file", "600", "cc", "adm"), "600", "cc", "cc")


def test_an_authorised_key_is_matched_by_type_and_key_not_comment():
    def keys(text: str | None) -> PathState:
        return PathState("file", "600", "cc", "cc", None if text is None else text.encode())

    assert key_authorised(keys(f"ssh-ed25519 AAAAother me\n{KEY}\n"), KEY)
    assert key_authorised(keys("ssh-rsa AAAAB3Nza+/key= another-comment\n"), KEY)
    assert not key_authorised(keys("ssh-rsa AAAAB3Nza+/kez= cc@node1\n"), KEY)
    assert not key_authorised(keys("# ssh-rsa AAAAB3Nza+/key=\n"), KEY)
    assert not key_authorised(keys(None), KEY)  # unreadable: the operation decides
    assert not key_authorised(None, KEY)


def test_the_planned_key_is_taken_only_from_a_whole_pair():
    """The public half is renamed into place first: read alone, it may be replaced before
    it is authorised (tests/test_faults.py's key test saw that in CI)."""
    pub = PathState("file", "644", "cc", "cc", f"{KEY}\n".encode())
    private = PathState("file", "600", "cc", "cc")
    path = "/home/cc/.ssh/id_rsa"
    assert whole_key_pair({path: private, f"{path}.pub": pub}, path) == KEY
    assert whole_key_pair({path: None, f"{path}.pub": pub}, path) is None
    assert whole_key_pair({f"{path}.pub": pub}, path) is None
    assert (
        whole_key_pair({path: PathState("symlink", "777", "cc", "cc"), f"{path}.pub": pub}, path)
        is None
    )
    assert whole_key_pair({path: private, f"{path}.pub": None}, path) is None


def test_the_block_check_wants_it_once_and_exactly():
    def known(lines: list[str]) -> PathState:
        return PathState("file", "644", "cc", "cc", "\n".join(lines).encode() + b"\n")

    begin, end = MARKER.format(mark="BEGIN"), MARKER.format(mark="END")
    other = "gitlab.example ssh-ed25519 AAAAx"
    assert block_in_place(known([other, begin, *BLOCK, end, other]), MARKER, BLOCK)
    assert not block_in_place(known([begin, BLOCK[0], end]), MARKER, BLOCK)
    assert not block_in_place(known([begin, *BLOCK, "extra", end]), MARKER, BLOCK)
    assert not block_in_place(known([begin, *reversed(BLOCK), end]), MARKER, BLOCK)
    assert not block_in_place(known([begin, *BLOCK, end, begin, *BLOCK, end]), MARKER, BLOCK)
    assert not block_in_place(known([end, *BLOCK, begin]), MARKER, BLOCK)
    assert not block_in_place(known([begin + " ", *BLOCK, end]), MARKER, BLOCK)
    assert not block_in_place(known([other]), MARKER, BLOCK)
    assert not block_in_place(None, MARKER, BLOCK)


def test_put_content_must_match_byte_for_byte_with_its_mode_and_owner():
    text = "MaxStartups 10:30:100\n"

    def dropin(content: bytes | None, mode="644", user="root", group="root") -> PathState:
        return PathState("file", mode, user, group, content)

    assert content_in_place(dropin(text.encode()), text, "644", "root", "root")
    assert not content_in_place(dropin(text.rstrip("\n").encode()), text, "644", "root", "root")
    assert not content_in_place(dropin(b"MaxStartups 9\n"), text, "644", "root", "root")
    assert not content_in_place(dropin(None), text, "644", "root", "root")
    assert not content_in_place(dropin(text.encode(), mode="600"), text, "644", "root", "root")
    assert not content_in_place(dropin(text.encode(), user="cc"), text, "644", "root", "root")
    assert not content_in_place(None, text, "644", "root", "root")
    assert content_in_place(dropin(text.encode(), mode="600", user="cc"), text)  # put(src) only
    assert not content_in_place(dropin(b"other\n"), text)


def remote_sums(path: Path) -> dict[str, str] | None:
    fact = DirectorySha1s()
    command = fact.command(str(path)).get_raw_value()
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    return fact.process(out.stdout.splitlines())


def test_a_synced_directory_is_in_place_only_with_the_same_files_and_bytes(tmp_path: Path):
    """DirectorySha1s run by a real shell on real directories, against dir_in_sync."""
    local, remote = tmp_path / "wheels", tmp_path / "on node1"
    for folder in (local, remote):
        folder.mkdir()
        (folder / "ansible-9.8.0-py3-none-any.whl").write_bytes(b"wheel bytes")
        (folder / ".complete").write_bytes(b"")
    assert dir_in_sync(remote_sums(remote), local)
    (remote / ".complete").write_bytes(b"changed")
    assert not dir_in_sync(remote_sums(remote), local)
    (remote / ".complete").write_bytes(b"")
    (remote / "stray it's.whl").write_bytes(b"x")
    assert not dir_in_sync(remote_sums(remote), local)
    (remote / "stray it's.whl").unlink()
    (remote / "sub").mkdir()
    assert not dir_in_sync(remote_sums(remote), local)
    (remote / "sub").rmdir()
    (remote / ".complete").unlink()
    assert not dir_in_sync(remote_sums(remote), local)
    assert remote_sums(tmp_path / "absent") is None
    (tmp_path / "link").symlink_to(local)
    assert remote_sums(tmp_path / "link") is None


def test_firewalld_commands_are_what_systemd_service_would_run():
    """Judged as pyinfra's own facts judge the unit (SubState for running, UnitFileState
    for enabled), so a state the operation would leave alone gets no command either: a
    rerun on a failed or masked unit must not report a change every time."""

    def cmds(active: str, sub: str, file_state: str) -> list[str]:
        state = {"LoadState": "loaded", "ActiveState": active, "SubState": sub}
        return stop_and_disable_commands(state | {"UnitFileState": file_state}, "fw.service")

    both = ["systemctl stop fw.service", "systemctl disable fw.service"]
    assert cmds("active", "running", "enabled") == both
    assert cmds("active", "running", "disabled") == ["systemctl stop fw.service"]
    assert cmds("inactive", "dead", "enabled") == ["systemctl disable fw.service"]
    assert cmds("inactive", "dead", "static") == ["systemctl disable fw.service"]
    assert cmds("inactive", "dead", "disabled") == []
    assert cmds("failed", "failed", "disabled") == []
    assert cmds("inactive", "dead", "masked") == []
    # Before this fact read SubState: a state without it is never taken for running.
    assert stop_and_disable_commands({"UnitFileState": "disabled"}, "fw.service") == []


def test_daemon_json_is_in_place_only_when_it_already_trusts_the_registry(tmp_path: Path):
    daemon = tmp_path / "daemon.json"
    daemon.write_text('{"insecure-registries": ["node1:5000"], "log-driver": "json-file"}\n')
    state = read([daemon], [daemon])[str(daemon)]
    assert daemon_json_in_place(state, "node1:5000")
    assert not daemon_json_in_place(state, "node1:5001")  # another registry: merged in
    assert not daemon_json_in_place(None, "node1:5000")  # absent: written
    for bad in (b"{not json", b"[1]", b'{"insecure-registries": "node1:5000"}', b"\xff"):
        # the operation refuses these with its own message: never judged in place
        assert not daemon_json_in_place(PathState("file", "644", "root", "root", bad), "node1:5000")
    unreadable = PathState("file", "600", "root", "root", None)
    assert not daemon_json_in_place(unreadable, "node1:5000")


def test_the_registry_container_is_in_place_only_running_and_unchanged():
    running = [{"State": {"Status": "running"}}]
    assert container_in_place(running, [])
    assert not container_in_place(running, ["ports"])  # recreated with the new ports
    assert not container_in_place([{"State": {"Status": "exited"}}], [])  # started
    assert not container_in_place([], []) and not container_in_place(None, [])  # created


STARTS = {  # file name -> its text before (None: no file)
    "absent": None,
    "empty": "",
    "others": "gitlab.example ssh-ed25519 AAAAx\n",
    "no-final-newline": "gitlab.example ssh-ed25519 AAAAx",
    "old-block": f"a\n{MARKER.format(mark='BEGIN')}\nnode1 old\n{MARKER.format(mark='END')}\nz\n",
}
BLOCK_DEPLOY = """
from pyinfra.operations import files
for name in {names!r}:
    files.block(name=name, path={where!r} + "/" + name, content={block!r}, marker={marker!r})
"""


def test_block_written_leaves_what_files_block_leaves(tmp_path: Path):
    """pyinfra's own files.block (the @local connector, a real pyinfra process) on each
    starting file, against block_written from that file's planning read."""
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for where in (ours, theirs):
        where.mkdir()
        for name, text in STARTS.items():
            if text is not None:
                (where / name).write_text(text)
    deploy = tmp_path / "deploy.py"
    deploy.write_text(
        BLOCK_DEPLOY.format(names=list(STARTS), where=str(theirs), block=BLOCK, marker=MARKER)
    )
    ran = subprocess.run(
        [sys.executable, "-m", "pyinfra", "@local", str(deploy), "-y"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    states = read([ours / name for name in STARTS], [ours / name for name in STARTS])
    for name in STARTS:
        written = block_written(states[str(ours / name)], MARKER, BLOCK)
        assert written == (theirs / name).read_text(), name
        assert block_in_place(PathState("file", "644", "cc", "cc", written.encode()), MARKER, BLOCK)


def test_block_written_leaves_an_unusual_file_to_files_block():
    begin, end = MARKER.format(mark="BEGIN"), MARKER.format(mark="END")
    for text in (
        f"{begin}\n",
        f"{end}\n{begin}\n",
        f"{begin}\n{begin}\n{end}\n",
        f"x {begin}\n{end}\n",
    ):
        assert (
            block_written(PathState("file", "644", "cc", "cc", text.encode()), MARKER, BLOCK)
            is None
        )
    assert block_written(PathState("file", "644", "cc", "cc", None), MARKER, BLOCK) is None
    assert block_written(PathState("file", "644", "cc", "cc", b"\xff\n"), MARKER, BLOCK) is None
    assert block_written(PathState("directory", "755", "cc", "cc"), MARKER, BLOCK) is None
