"""Is a piece of host state already as an operation would leave it? Decided from one
planning-time read (gourmetops.facts.PathStates), so that a rerun with nothing to do runs
no operation at all: under `-y` pyinfra evaluates each operation again while executing, and
each one's facts are round trips one after another on the node.

Every check is at least as strict as the stock operation it stands in for: when in doubt it
says no, and the operation then runs and decides with its own facts.

    >>> in_place_dir(PathState("directory", "755", "cc", "cc"), mode="700")
    False
"""

from __future__ import annotations

import hashlib
import re
import shlex
from pathlib import Path

from pyinfra.facts.systemd import SystemdEnabled, SystemdStatus

from gourmetops.facts import CheckoutState, PathState
from gourmetops.registry.daemon_json import DaemonJsonError, merge


def in_place_dir(state: PathState | None, mode: str, owner: str | None = None) -> bool:
    """files.directory(mode=..., user=group=owner) would change nothing."""
    return (
        state is not None
        and state.type == "directory"
        and int(state.mode, 8) == int(mode, 8)
        and (owner is None or (state.user, state.group) == (owner, owner))
    )


def in_place_file(
    state: PathState | None, mode: str, user: str | None = None, group: str | None = None
) -> bool:
    """files.file(mode=..., user=..., group=...) would change nothing."""
    return (
        state is not None
        and state.type == "file"
        and int(state.mode, 8) == int(mode, 8)
        and (user is None or state.user == user)
        and (group is None or state.group == group)
    )


def text_lines(state: PathState | None) -> list[str] | None:
    """The file's lines, None when it is absent, unread or not text."""
    if state is None or state.type != "file" or state.content is None:
        return None
    try:
        return state.content.decode().splitlines()
    except UnicodeDecodeError:
        return None


def whole_key_pair(states: dict[str, PathState | None], key_path: str) -> str | None:
    """The public key's first line, only when the private key was read as there too: a
    pair still being renamed into place (public half first) is read again when authorised,
    so a key replaced meanwhile is never the one authorised."""
    private = states.get(key_path)
    if private is None or private.type != "file":
        return None
    return next(iter(text_lines(states.get(f"{key_path}.pub")) or []), None)


def key_authorised(state: PathState | None, key: str) -> bool:
    """`key` (type and base64, its comment aside) is a line of this authorized_keys."""
    wanted = key.split()[:2]
    return any(line.split()[:2] == wanted for line in text_lines(state) or [])


def block_in_place(state: PathState | None, marker: str, content: list[str]) -> bool:
    """files.block(marker=..., content=...) would change nothing: the file holds the block
    exactly once, marker lines as written, `content` between them."""
    lines = text_lines(state)
    if lines is None:
        return False
    begin, end = marker.format(mark="BEGIN"), marker.format(mark="END")
    # pyinfra's Block fact finds its markers anywhere in a line (awk /marker/).
    if sum(begin in line or end in line for line in lines) != 2:
        return False
    if begin not in lines or end not in lines:
        return False
    start, stop = lines.index(begin), lines.index(end)
    return start < stop and lines[start + 1 : stop] == content


def block_written(state: PathState | None, marker: str, content: list[str]) -> str | None:
    """The file's text as files.block(marker=..., content=...) leaves it, from the planning
    read: the block's lines replaced where the file holds it once, appended on a line of its
    own where it holds no marker, the block alone where there is no file. None for anything
    else (a marker once or three times, an unreadable file, not a file): files.block then."""
    begin, end = marker.format(mark="BEGIN"), marker.format(mark="END")
    block = [begin, *content, end]
    if state is None:
        return "\n".join(block) + "\n"
    lines = text_lines(state)
    if lines is None or state.content is None:
        return None
    marked = [i for i, line in enumerate(lines) if begin in line or end in line]
    if not marked:
        text = state.content.decode()
        return text + ("\n" if text and not text.endswith("\n") else "") + "\n".join(block) + "\n"
    if len(marked) != 2 or [lines[i] for i in marked] != [begin, end]:
        return None
    start, stop = marked
    return "\n".join(lines[:start] + block + lines[stop + 1 :]) + "\n"


def content_in_place(
    state: PathState | None,
    text: str,
    mode: str | None = None,
    user: str | None = None,
    group: str | None = None,
) -> bool:
    """files.put(src=text, mode=..., user=..., group=...) would change nothing."""
    return (
        state is not None
        and state.type == "file"
        and (mode is None or in_place_file(state, mode))
        and (user is None or state.user == user)
        and (group is None or state.group == group)
        and state.content == text.encode()
    )


def dir_in_sync(remote: dict[str, str] | None, local: Path) -> bool:
    """files.sync(src=local, delete=True) would change nothing: the remote directory holds
    exactly the local one's files, byte for byte (sha1), and nothing else."""
    if remote is None or "other" in remote.values():
        return False
    files = list(local.iterdir())
    if any(not f.is_file() or f.is_symlink() for f in files):
        return False
    return remote == {f.name: hashlib.sha1(f.read_bytes()).hexdigest() for f in files}


def stop_and_disable_commands(state: dict[str, str], unit: str) -> list[str]:
    """What systemd.service(running=False, enabled=False) would run on a unit in `state`
    (gourmetops.facts.SystemdUnit), judged as that operation's own facts judge it: stopped
    when its SubState counts as running for SystemdStatus, disabled when its UnitFileState
    counts as enabled for SystemdEnabled. Empty: nothing to do."""
    commands = []
    if state.get("SubState") in SystemdStatus.state_values:
        commands.append(f"systemctl stop {shlex.quote(unit)}")
    if state.get("UnitFileState") in SystemdEnabled.state_values:
        commands.append(f"systemctl disable {shlex.quote(unit)}")
    return commands


def checkout_in_place(state: CheckoutState, source: str, ref: str, remote: str | None) -> bool:
    """git.repo(src=source, branch=ref) would change nothing: a clone of `source` with the
    branch `ref` checked out at the commit the remote has (`remote` when this run is about
    to carry that commit to node1 itself, else what `git ls-remote` said, as pyinfra's own
    GitRemoteBranchCommit reads it). A tag, or a commit unknown on either side, says no."""
    want = state.remote if remote is None else remote
    return (
        state.git_dir
        and state.origin == source
        and state.branch == ref
        and not state.tag
        and bool(state.local)
        and state.local == want
    )


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


_REQUIREMENT = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:==(?P<version>[A-Za-z0-9.+!]+))?", re.ASCII
)


def requirements_in_place(state: CheckoutState, requirements: list[str]) -> bool:
    """pip.packages(requirements, virtualenv) would change nothing: the virtualenv exists and
    holds each `name==version` at that version and each bare name at all (names compared
    canonically, from its *.dist-info directories, which `pip freeze` reads too); any other
    form of requirement (a range, a marker) says no."""
    installed = {}
    for dist in state.dists:
        name, _, version = dist.removesuffix(".dist-info").rpartition("-")
        installed[_canonical(name)] = version
    for line in requirements:
        m = _REQUIREMENT.fullmatch(line.strip())
        if m is None:
            return False
        have = installed.get(_canonical(m["name"]))
        if have is None or (m["version"] is not None and have != m["version"]):
            return False
    return state.venv


def daemon_json_in_place(state: PathState | None, registry: str) -> bool:
    """docker_daemon_json(registry=...) would change nothing: the file is there, readable,
    and already trusts `registry` (registry/daemon_json.merge says so). A file it cannot
    merge says no: the operation then refuses it with its own message."""
    if state is None or state.type != "file" or state.content is None:
        return False
    try:
        return merge(state.content.decode(), registry) is None
    except (UnicodeDecodeError, DaemonJsonError):
        return False


def container_in_place(inspect: list[dict] | None, differs: list[str]) -> bool:
    """docker.container(present=True, start=True) would change nothing: the container exists
    and runs, and nothing of it differs from what is asked (registry/service.py
    container_differs; pyinfra 3.10's own ContainerSpec.diff_from_inspect finds nothing)."""
    if not inspect or not inspect[0]:
        return False
    return inspect[0].get("State", {}).get("Status") == "running" and not differs
