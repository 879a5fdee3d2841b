"""pyinfra operations the stock ones do not cover (pyinfra's `+ arg:` docstrings)."""

from __future__ import annotations

import base64
import hashlib
import posixpath
import shlex
from io import StringIO
from typing import Any

from pyinfra import host
from pyinfra.api import OperationError, operation
from pyinfra.facts.files import FileContents
from pyinfra.operations import files

from gourmetops.facts import shared_fact
from gourmetops.registry.daemon_json import DaemonJsonError, backup_path, merge


def known_hosts_lines(names_by_address: dict[str, str], keys: dict[str, list[str]]) -> list[str]:
    """known_hosts lines naming each node by name and address, in a stable order."""
    return [
        f"{name},{address} {key}"
        for address, name in sorted(names_by_address.items(), key=lambda item: item[1])
        for key in keys.get(address, [])
    ]


@operation()
def already(**_asked: Any):
    """
    Nothing to do: the deploy's planning-time read found this step's state as asked
    (gourmetops.in_place). The step keeps its row in the results, "No change", and costs
    no round trip while the run executes.

    + _asked: the arguments the step's own operation would have taken, unused
    """
    return
    yield


def unless_in_place(in_place: bool, op: Any, **kwargs: Any) -> Any:
    """`op(**kwargs)`, or `already(**kwargs)` when the step is in place. One call line, so
    pyinfra sees one operation (one results row) whichever each host needed."""
    return (already if in_place else op)(**kwargs)


MAX_SMALL_FILE = 64 * 1024  # a file written from the command line (base64 in argv)


ABSENT = "absent"  # `was`: the file did not exist when the deploy read it


def was_of(content: bytes | None) -> str:
    """`replace_file_command`'s `was` for a file read while planning (None: absent)."""
    return ABSENT if content is None else hashlib.sha256(content).hexdigest()


def _unchanged_since(path: str, was: str) -> str:
    """A shell test: `path` is as the planning read found it (absent, or these bytes)."""
    q = shlex.quote(path)
    same = (
        f"[ ! -e {q} ] && [ ! -L {q} ]"
        if was == ABSENT
        else f'[ "$(sha256sum < {q} 2>/dev/null | cut -c1-64)" = {shlex.quote(was)} ]'
    )
    said = shlex.quote(f"gourmetops: {path} changed since this run read it; rerun")
    return f"{{ {same} || {{ echo {said} >&2; exit 1; }}; }} && "


def replace_file_command(
    path: str, content: str, mode: str, user: str, group: str, was: str | None = None
) -> str:
    """A shell command writing `content` to `path` with its mode and owner: into a new file
    beside it (mktemp: never an existing name), then renamed over `path`, so a link there
    is replaced, not written through, and a reader sees the old file or the new one. With
    `was` (`was_of` the planning read), a file changed since is left alone and named."""
    size = len(content.encode())
    if size > MAX_SMALL_FILE:
        raise OperationError(f"{path}: {size} bytes, over {MAX_SMALL_FILE}")
    q = shlex.quote
    data = base64.b64encode(content.encode()).decode()
    directory, tmp = q(posixpath.dirname(path)), '"$tmp"'
    return (
        (_unchanged_since(path, was) if was is not None else "")
        + f"mkdir -p {directory} && tmp=$(mktemp -p {directory} .gourmetops.XXXXXX) && "
        f"{{ printf %s {q(data)} | base64 -d > {tmp} && chown {q(f'{user}:{group}')} {tmp} "
        f"&& chmod {q(mode)} {tmp} && mv -fT {tmp} {q(path)}; }} "
        f"|| {{ rm -f {tmp}; exit 1; }}"
    )


@operation()
def small_file(path: str, content: str, mode: str, user: str, group: str, was: str | None = None):
    """
    Write a small file whose state the deploy read while planning (with
    `gourmetops.in_place.content_in_place`): one round trip where files.put reads the file,
    its directory and a temporary directory, then uploads over SFTP and moves.

    + path: the file to write
    + content: its text (at most MAX_SMALL_FILE bytes)
    + mode: its mode, e.g. "644"
    + user: its owner
    + group: its group
    + was: `was_of` the bytes the deploy read while planning: a file changed since then is
      not overwritten (the operation fails naming it)

    **Example:**

    .. code:: python

        small_file(
            name="sshd drop-in", path="/etc/ssh/sshd_config.d/60-gourmetops-jump.conf",
            content="MaxStartups 10:30:100\n", mode="644", user="root", group="root",
            _sudo=True,
        )
    """
    yield replace_file_command(path, content, mode, user, group, was)


MAX_KEY_LINE = 16 * 1024  # a 16384-bit RSA public key's line is about 2.8 KiB


def authorise_key_command(home: str, user: str, key: str) -> str:
    """One shell command: `home`/.ssh (700) and its authorized_keys (600) owned by `user`,
    with `key` in it (compared by type and base64, its comment aside, as sshd reads it).
    A link at either path is refused, never written through."""
    fields = key.split()
    if len(fields) < 2 or len(key) > MAX_KEY_LINE or "\n" in key.strip():
        raise OperationError(f"not one public key line: {key[:80]!r}")
    q = shlex.quote
    ssh_dir, keys = q(f"{home}/.ssh"), q(f"{home}/.ssh/authorized_keys")
    owner = q(f"{user}:{user}")
    return (
        f'for p in {ssh_dir} {keys}; do if [ -L "$p" ]; then '
        'echo "gourmetops: $p is a link; refusing to write through it" >&2; exit 1; fi; done; '
        f"mkdir -p {ssh_dir} && chown {owner} {ssh_dir} && chmod 700 {ssh_dir} && "
        f"touch {keys} && chown {owner} {keys} && chmod 600 {keys} && "
        f"{{ awk -v k={q(' '.join(fields[:2]))} '$1\" \"$2 == k {{ f = 1 }} END {{ exit !f }}' "
        f'{keys} || {{ if [ -s {keys} ] && [ -n "$(tail -c1 {keys})" ]; then echo >> {keys}; '
        f"fi; printf '%s\\n' {q(key.strip())} >> {keys}; }}; }}"
    )


KEYGEN_WAIT_S = 600  # a 16384-bit key on a slow VM takes minutes; 4096 bits took 1-5 s


def _keygen_paths(key_path: str) -> tuple[str, str, str, str]:
    q = shlex.quote
    return (
        q(posixpath.dirname(key_path) or "."),
        q(key_path),
        q(f"{key_path}.gourmetops-new"),
        q(f"{key_path}.gourmetops-keygen.log"),
    )


def start_keygen_command(key_path: str, bits: int) -> str:
    """Start `ssh-keygen` for an RSA key at `key_path` and return at once, so the key's
    seconds overlap the run's other work; `wait_keygen_command` collects it later.

    The key's directory is flock'ed before the generator starts and stays locked (its
    descriptor inherited) until the generator exits: the waiter waits on that event, not a
    clock. The key is written under a new name, then renamed into place (public key first,
    so an interrupted run finds no key and generates again), and the log goes with success.
    A generation already running is left to finish, and a whole pair made since the
    planning read (by an earlier run's generator) is kept, never replaced."""
    directory, key, new, log = _keygen_paths(key_path)
    generate = shlex.join(["ssh-keygen", "-t", "rsa", "-b", str(bits), "-q", "-N", ""])
    work = (
        f"rm -f {new} {new}.pub {log} && set -C && exec 2>{log} && {generate} -f {new} "
        f"&& chmod 600 {new} && mv -fT {new}.pub {key}.pub && mv -fT {new} {key} && rm -f {log}"
    )
    running = shlex.quote(f"gourmetops: {key_path} is being generated already; waiting for it")
    there = shlex.quote(f"gourmetops: {key_path} was generated since this run looked; kept")
    whole = " && ".join(
        f"[ -f {p} ] && [ ! -L {p} ] && [ -s {p} ]" for p in (key, shlex.quote(f"{key_path}.pub"))
    )
    return (
        f"exec 9<{directory} || exit 1; "
        f"if ! flock -n 9; then echo {running}; exit 0; fi; "
        f"if {whole}; then echo {there}; exit 0; fi; "
        f"setsid -f sh -c {shlex.quote(work)} </dev/null >/dev/null 2>&1"
    )


def wait_keygen_command(key_path: str, timeout_s: int = KEYGEN_WAIT_S) -> str:
    """Wait until `start_keygen_command`'s generator has exited (its lock on the key's
    directory is released), then fail with ssh-keygen's own words unless the key is there."""
    directory, key, _new, log = _keygen_paths(key_path)
    q = shlex.quote
    late = q(f"gourmetops: {key_path} was still being generated after {int(timeout_s)} s")
    failed = q(f"gourmetops: generating {key_path} failed:")
    return (
        f"exec 9<{directory} || exit 1; "
        f"flock -w {int(timeout_s)} 9 || {{ echo {late} >&2; exit 1; }}; "
        f"if [ -s {key} ] && [ -s {key}.pub ]; then exit 0; fi; "
        f"echo {failed} >&2; cat {log} >&2; rm -f {log}; exit 1"
    )


def failing_command(why: str) -> str:
    """A command that fails saying `why` on a `gourmetops:` line: the run's summary quotes
    it for the host (a Python callback's exception would reach the log only)."""
    return f"echo {shlex.quote(f'gourmetops: {why}')} >&2; exit 1"


@operation()
def authorized_head_key(
    head: str, public_key_path: str, user: str, home: str, public_key: str | None = None
):
    """
    Authorise the head node's public key for `user` on this host.

    + head: inventory name of the host holding the key
    + public_key_path: path of the public key on the head
    + user: user whose authorized_keys gets the key
    + home: that user's home on this host (a fact of the planning phase)
    + public_key: the key itself, when it was already there at planning time

    Read from the head when the operation runs: a first run generates the key earlier in
    the same run. Then one command (`authorise_key_command`) where files.directory,
    files.file, the AuthorizedKeys fact and files.line were a round trip each, on node1's
    critical path of a first run. (server.user_authorized_keys takes a 4096-bit key for a
    file name.)

    **Example:**

    .. code:: python

        authorized_head_key(
            name="Authorise node1's cluster key for cc",
            head="node1", public_key_path="/home/cc/.ssh/id_rsa.pub",
            user="cc", home="/home/cc",
        )
    """
    head_host = host.inventory.get_host(head, None)
    if public_key:
        lines = [public_key]
    elif head_host is None or not head_host.connected:
        raise OperationError(f"cannot read {public_key_path} from {head}: {head} is not connected")
    elif head_host in host.state.failed_hosts:
        # Its key is collected late in the run (generated in the background): not there.
        yield failing_command(f"{head} failed earlier in this run: fix it, then rerun")
        return
    else:
        lines = shared_fact(head_host, FileContents, path=public_key_path)
    if not lines:
        # Planning before the key exists: report the change; by execution time the
        # generating operation has run and this body is evaluated again.
        yield failing_command(f"{head}: {public_key_path} is missing; rerun to generate it")
        return
    yield authorise_key_command(home, user, lines[0])


@operation()
def docker_daemon_json(path: str, registry: str | None = None, settings: dict | None = None):
    """
    Trust `registry` in Docker's daemon.json and set `settings`, keeping every other key.

    + path: the daemon.json to merge into (created if absent)
    + registry: host:port to add to insecure-registries
    + settings: top-level keys to set (e.g. the lab's storage driver and runtime)

    A file that is not valid JSON is refused with an error naming the host and the file,
    and left byte for byte as it was.

    **Example:**

    .. code:: python

        docker_daemon_json(
            name="daemon.json trusts node1:5000",
            path="/etc/docker/daemon.json", registry="node1:5000", _sudo=True,
        )
    """
    lines = host.get_fact(FileContents, path=path, _sudo=True)
    existing = None if lines is None else "\n".join(lines)
    try:
        text = merge(existing, registry, where=f"{host.name}:{path}", settings=settings)
    except DaemonJsonError as exc:
        raise OperationError(str(exc)) from exc
    if text is None:
        host.noop(f"{path} already as asked")
        return
    # Run with _sudo=True: the file and its directory belong to root. The file replaced is
    # kept until dockerd has started with the new one (restart_or_restore_command).
    prev = shlex.quote(backup_path(path))
    yield f"rm -f {prev}" if lines is None else f"cp -a {shlex.quote(path)} {prev}"
    yield from files.directory._inner(path=path.rsplit("/", 1)[0])
    yield from files.put._inner(src=StringIO(text), dest=path, mode="644")
