"""pyinfra facts the stock ones do not cover, each with an example of what it returns."""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.lock import Semaphore
from pyinfra.api import FactBase, QuoteString, StringCommand
from pyinfra.api.host import Host
from pyinfra.api.state import StateStage

from gourmetops.kubespray.checkout import NodePython


class SystemdUnit(FactBase[dict[str, str] | None]):
    """A unit's LoadState, ActiveState, SubState and UnitFileState in one round trip; None
    when PID 1 is not systemd. LoadState "not-found" means not installed (unlike
    SystemdStatus, this also sees a stopped, disabled unit). SubState and UnitFileState are
    what pyinfra's SystemdStatus and SystemdEnabled judge a unit by.

    .. code:: python

        {"LoadState": "loaded", "ActiveState": "inactive", "SubState": "dead",
         "UnitFileState": "disabled"}
    """

    def command(self, unit: str) -> StringCommand:
        return StringCommand(
            "test -d /run/systemd/system || { echo no-systemd; exit 0; };",
            "systemctl show -p LoadState,ActiveState,SubState,UnitFileState",
            QuoteString(unit),
        )

    def process(self, output: list[str]) -> dict[str, str] | None:
        if output == ["no-systemd"]:
            return None
        return dict(line.split("=", 1) for line in output if "=" in line)


class SshHostPublicKeys(FactBase[list[str]]):
    """This host's SSH host public keys as its sshd serves them: ["type key", ...].

    Read over pyinfra's own connection, which the controller has already authenticated
    (and which reaches node2/node3 through node1, on the private network): what node1
    pins is what was verified, not whatever answered a scan first. Run with _sudo=True:
    `sshd -T` (the effective HostKey paths) needs root; the stock paths are the fallback.

    .. code:: python

        ["ssh-ed25519 AAAAC3Nza...", "ssh-rsa AAAAB3Nza..."]
    """

    def command(self) -> str:
        return (
            "keys=$(sshd -T 2>/dev/null | awk '$1 == \"hostkey\" {print $2}'); "
            'for k in ${keys:-/etc/ssh/ssh_host_*_key}; do cat "$k.pub" 2>/dev/null; done; true'
        )

    def process(self, output: list[str]) -> list[str]:
        return sorted(" ".join(line.split()[:2]) for line in output if len(line.split()) >= 2)


@dataclass(frozen=True)
class PathState:
    """What `stat` says of one path, and its bytes when they were asked for and readable."""

    type: str  # "file", "directory", "symlink", ... (stat's %F, "regular ..." as "file")
    mode: str  # octal, as stat's %a: "600"
    user: str
    group: str
    content: bytes | None = None


class PathStates(FactBase[dict[str, PathState | None]]):
    """Several paths' type, mode and owner, and the bytes of those in `read`, in one round
    trip (as the connecting user); None for a path that is absent or cannot be stat'ed.
    A deploy decides from it which operations have anything to do, instead of each
    operation reading its own facts again, one after another, while the run executes.

    .. code:: python

        {
            "/home/cc/.ssh": PathState("directory", "700", "cc", "cc"),
            "/home/cc/.ssh/id_rsa.pub": PathState("file", "644", "cc", "cc", b"ssh-rsa AAA..."),
            "/etc/apt/sources.list.d/docker.list": None,
        }
    """

    def command(self, paths: tuple[str, ...], read: tuple[str, ...] = ()) -> StringCommand:
        self.paths = paths  # process() maps its numbered lines back (as pyinfra's Block does)
        parts: list[Any] = []
        for i, path in enumerate(paths):
            quoted = QuoteString(path)
            parts += ["s=$(stat -c '%F|%a|%U|%G' --", quoted, "2>/dev/null) || s=absent;"]
            if path in read:
                # "!" marks a file that exists but cannot be read (an empty one gives "").
                parts += ["c=$(base64 -w0 --", quoted, "2>/dev/null) || c='!';"]
            else:
                parts += ["c='-';"]
            parts += [f'printf \'%s|%s|%s\\n\' {i} "$s" "$c";']
        return StringCommand(*parts)

    def process(self, output: list[str]) -> dict[str, PathState | None]:
        states: dict[str, PathState | None] = dict.fromkeys(self.paths)
        for line in output:
            index, *stat, content = line.split("|")
            if stat == ["absent"]:
                continue
            kind, mode, user, group = stat
            states[self.paths[int(index)]] = PathState(
                "file" if kind.startswith("regular") else kind,
                mode,
                user,
                group,
                None if content in ("-", "!") else base64.b64decode(content),
            )
        return states


class DirectorySha1s(FactBase[dict[str, str] | None]):
    """The sha1 of every file directly in a directory, in one round trip; anything else
    in it (a link, a subdirectory) as "other"; None when it is no directory (or a link).

    .. code:: python

        {"ansible-9.8.0-py3-none-any.whl": "a3f1...", ".complete": "da39..."}
    """

    def command(self, path: str) -> StringCommand:
        return StringCommand(
            "test -d",
            QuoteString(path),
            "&& ! test -L",
            QuoteString(path),
            "|| { echo no-directory; exit 0; }; cd",
            QuoteString(path),
            "&& find . -mindepth 1 -maxdepth 1 ! -type f -printf 'other %P\\n'"
            " && find . -mindepth 1 -maxdepth 1 -type f -exec sha1sum -- {} +",
        )

    def process(self, output: list[str]) -> dict[str, str] | None:
        if output == ["no-directory"]:
            return None
        sums = {}
        for line in output:
            digest, _, name = line.partition(" ")
            sums[name.lstrip(" *").removeprefix("./")] = digest
        return sums


class PythonPlatform(FactBase):
    """python3's version, machine and glibc on the host: what its wheels must match.

    .. code:: python

        NodePython(major=3, minor=11, machine="x86_64", glibc=(2, 36))
    """

    def command(self) -> str:
        return (
            "python3 -c 'import platform, sys; "
            "print(sys.version_info[0], sys.version_info[1], platform.machine(), "
            "platform.libc_ver()[1])'"
        )

    def process(self, output: list[str]) -> NodePython:
        major, minor, machine, glibc = output[0].split()
        glibc_major, glibc_minor = (int(x) for x in glibc.split(".")[:2])
        return NodePython(int(major), int(minor), machine, (glibc_major, glibc_minor))


@dataclass(frozen=True)
class CheckoutState:
    """What git.repo, pip.virtualenv and pip.packages would read of kubespray on node1."""

    git_dir: bool  # dest/.git is a directory
    origin: str  # remote.origin.url
    branch: str  # the checked-out branch ("HEAD" when detached)
    tag: bool  # the wanted ref is a tag
    local: str  # the wanted branch's commit, "" when unknown
    remote: str  # the remote's commit of it (git ls-remote, as pyinfra's own fact reads it)
    venv: bool  # venv/bin/activate is a file
    dists: tuple[str, ...]  # the venv's *.dist-info directory names
    debs: tuple[str, ...]  # of git and virtualenv, those installed


class KubesprayCheckout(FactBase[CheckoutState]):
    """Everything deploys/kubespray.py decides the checkout and its virtualenv from, in one
    round trip, instead of the seven git facts and `pip freeze` (0.65 s) its operations
    read one after another while executing.

    .. code:: python

        CheckoutState(git_dir=True, origin="https://github.com/kubernetes-sigs/kubespray",
                      branch="release-2.26", tag=False, local="3d5e...", remote="3d5e...",
                      venv=True, dists=("ansible-9.8.0.dist-info", ...), debs=("git",))
    """

    def command(self, dest: str, venv: str, ref: str) -> StringCommand:
        d, r = QuoteString(dest), QuoteString(ref)
        heads = QuoteString(f"refs/heads/{ref}")
        debs = "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' git virtualenv 2>/dev/null"
        return StringCommand(
            "g() { git -C",
            d,
            '"$@" 2>/dev/null; };',
            'say() { printf \'%s=%s\\n\' "$1" "$2"; };',
            'say git_dir "$(test -d',
            QuoteString(f"{dest}/.git"),
            '&& echo yes)";',
            'say origin "$(g config --get remote.origin.url)";',
            'say branch "$(g rev-parse --abbrev-ref HEAD)";',
            'say tag "$(g tag -l',
            r,
            ')";',
            'say local "$(g rev-parse --verify -q',
            heads,
            ')";',
            'say remote "$(test -d',
            d,
            "&& g ls-remote origin",
            heads,
            '| head -n1 | cut -f1)";',
            'say venv "$(test -f',
            QuoteString(f"{venv}/bin/activate"),
            '&& echo yes)";',
            'say dists "$(cd',
            QuoteString(venv),
            "2>/dev/null && cd lib/python3*/site-packages",
            "2>/dev/null && ls -d *.dist-info 2>/dev/null | tr '\\n' ' ')\";",
            f"say debs \"$({debs} | awk '$2 == \"ii\" {{print $1}}' | tr '\\n' ' ')\"",
        )

    def process(self, output: list[str]) -> CheckoutState:
        said = dict(line.partition("=")[::2] for line in output)
        return CheckoutState(
            git_dir=said.get("git_dir") == "yes",
            origin=said.get("origin", ""),
            branch=said.get("branch", ""),
            tag=bool(said.get("tag")),
            local=said.get("local", ""),
            remote=said.get("remote", ""),
            venv=said.get("venv") == "yes",
            dists=tuple(said.get("dists", "").split()),
            debs=tuple(said.get("debs", "").split()),
        )


def at_once(*reads: Callable[[], Any]) -> list[Any]:
    """Several fact reads side by side (each its own SSH session, on one host or several):
    one round trip of waiting, not one per read, as a deploy file asks one after another."""
    greenlets = [gevent.spawn(read) for read in reads]
    gevent.joinall(greenlets, raise_error=True)
    return [g.value for g in greenlets]


_shared: dict[tuple, Any] = {}
_reading: defaultdict[tuple, Semaphore] = defaultdict(Semaphore)


def shared_fact(host: Host, cls: type[FactBase], **kwargs: Any) -> Any:
    """`host`'s fact read once for every deploy of this run that asks for it at once.

    Each worker's deploy asks node1 the same things while planning; every read is an SSH
    session on node1's one connection, and OpenSSH allows 10 per connection (MaxSessions):
    at twelve nodes reads failed ("Unable to open channel"). The others wait for the first
    read and share it. While executing, an empty answer is not kept (an earlier operation
    of the same run may be about to create what was read)."""
    stage = host.state.current_stage
    key = (id(host.state), stage, host.name, cls, tuple(sorted(kwargs.items())))
    with _reading[key]:
        if key not in _shared:
            value = host.get_fact(cls, **kwargs)
            if value or stage != StateStage.Execute:
                _shared[key] = value
            return value
        return _shared[key]
