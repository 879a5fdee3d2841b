"""pyinfra operations the stock ones do not cover (pyinfra's `+ arg:` docstrings)."""

from __future__ import annotations

import shlex
from io import StringIO
from typing import Any

from pyinfra import host
from pyinfra.api import FunctionCommand, OperationError, operation
from pyinfra.facts.files import FileContents
from pyinfra.facts.server import AuthorizedKeys
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


def _key_not_generated_yet(head: str, path: str) -> Any:
    raise OperationError(f"{head}: {path} is still missing when it should have been generated")


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
    the same run. (server.user_authorized_keys takes a 4096-bit key for a file name.)

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
    else:
        lines = shared_fact(head_host, FileContents, path=public_key_path)
    if not lines:
        # Planning before the key exists: report the change; by execution time the
        # generating operation has run and this body is evaluated again.
        yield FunctionCommand(_key_not_generated_yet, (head, public_key_path), {})
        return
    ssh_dir = f"{home}/.ssh"
    keys_file = f"{ssh_dir}/authorized_keys"
    yield from files.directory._inner(path=ssh_dir, user=user, group=user, mode="700")
    yield from files.file._inner(path=keys_file, user=user, group=user, mode="600")
    key = lines[0].strip()
    # Compared here, not by files.line's regex: a base64 key holds "+", which grep
    # reads as an operator however the line is escaped, so the key would be added again.
    present = {
        " ".join(k.split()[:2]) for k in host.get_fact(AuthorizedKeys, user=user, path=keys_file)
    }
    if " ".join(key.split()[:2]) not in present:
        yield from files.line._inner(path=keys_file, line=key, ensure_newline=True)


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
