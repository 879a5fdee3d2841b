"""A node that could not be reached over SSH, said in one line whatever said it first:
paramiko (Fabric) raising, ssh exiting 255 with its stderr, or pyinfra's "Could not
connect" line. The line names the node, the cause, what to do, and the command that shows
it by hand:

    node1: connection refused at 127.0.0.10:22 (...); check the floating IP and that node1
    is up; try it yourself: ssh -F .state/chameleon/ssh_config node1 true
"""

from __future__ import annotations

import errno
import os
import re
import shlex
import socket
from pathlib import Path

from paramiko.ssh_exception import (
    AuthenticationException,
    BadHostKeyException,
    NoValidConnectionsError,
    SSHException,
)

from gourmetops.errors import GourmetopsError
from gourmetops.targets import Target

REFUSED = "connection refused"
TIMED_OUT = "timed out"
KEY_REFUSED = "key refused"
HOST_KEY_CHANGED = "host key changed"
HOST_KEY_UNKNOWN = "host key not known"
NOT_RESOLVED = "name not resolved"
NO_ROUTE = "no route to host"
DROPPED = "connection closed before login"

# What each client says for each cause: ssh's stderr, paramiko's messages, pyinfra's lines.
_SAID: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (cause, re.compile(pattern, re.IGNORECASE))
    for cause, pattern in (
        (HOST_KEY_CHANGED, r"IDENTIFICATION HAS CHANGED|SSH host key error|does not match"),
        (HOST_KEY_UNKNOWN, r"Host key verification failed|not found in known_hosts"),
        (
            KEY_REFUSED,
            r"Permission denied|Authentication (?:error|failed)|No authentication methods",
        ),
        (NOT_RESOLVED, r"resolve hostname|not known|name resolution|gaierror"),
        (REFUSED, r"Connection refused|Unable to connect to port"),
        (TIMED_OUT, r"timed out|timeout|no answer in"),
        (NO_ROUTE, r"No route to host|Network is unreachable"),
        (DROPPED, r"Connection (?:closed|reset)|banner|EOF|kex_exchange"),
    )
)


class Unreachable(GourmetopsError, ConnectionError):
    """A node could not be reached over SSH: the message names the node, the cause, the
    fix and the ssh command that shows the same failure by hand."""

    def __init__(self, node: str, message: str) -> None:
        super().__init__(message)
        self.node = node


def cause_in(text: str) -> str | None:
    """The cause that ssh's stderr, a paramiko message or a pyinfra line names, if any."""
    for cause, said in _SAID:
        if said.search(text):
            return cause
    return None


def _errno_cause(exc: OSError) -> str | None:
    if isinstance(exc, socket.gaierror):
        return NOT_RESOLVED
    if isinstance(exc, TimeoutError):
        return TIMED_OUT
    return {
        errno.ECONNREFUSED: REFUSED,
        errno.ETIMEDOUT: TIMED_OUT,
        errno.EHOSTUNREACH: NO_ROUTE,
        errno.ENETUNREACH: NO_ROUTE,
        errno.ECONNRESET: DROPPED,
    }.get(exc.errno or 0)


def cause_of(exc: BaseException) -> str | None:
    """The cause of a paramiko or socket exception, or None when it is no connection failure."""
    if isinstance(exc, BadHostKeyException):
        return HOST_KEY_CHANGED
    if isinstance(exc, AuthenticationException):
        return KEY_REFUSED
    if isinstance(exc, NoValidConnectionsError):  # one socket error per address tried
        causes = [_errno_cause(e) if isinstance(e, OSError) else None for e in exc.errors.values()]
        return next((c for c in causes if c and c != REFUSED), REFUSED)
    if isinstance(exc, OSError):
        return _errno_cause(exc)
    if isinstance(exc, SSHException | EOFError):
        return cause_in(str(exc)) or DROPPED
    return None


def try_command(target: Target, node: str) -> str:
    """`ssh -F <ssh_config> NODE true`, the path as short as the current directory allows."""
    path = target.ssh_config_path
    here = Path.cwd()
    shown = os.path.relpath(path, here) if path.is_relative_to(here) else str(path)
    return shlex.join(["ssh", "-F", shown, node, "true"])


def _address(target: Target, node: str) -> str:
    found = target.cluster.node(node)
    return f"{target.public_address if found.jump else found.address}:22"


def _key_fix(target: Target, node: str) -> str:
    """Which key was refused, and how to name the right one (ssh-add helps only when no key
    is named: IdentitiesOnly offers the named key alone)."""
    user = target.cluster.user
    setting = "set ssh_key in chameleon.local.yaml (or GOURMETOPS_SSH_KEY)"
    if target.ssh_key:
        tried = f"{node} refused the key {target.ssh_key} for {user}"
        return f"{tried}: {setting} to the key it accepts"
    return (
        f"{node} refused your ssh-agent's and ~/.ssh's keys for {user}: {setting} to your key "
        "(e.g. ~/.ssh/id_rsa_chameleon), or ssh-add it"
    )


def _fix(target: Target, node: str, cause: str) -> str:
    """What to do about `cause` on `node` of `target`."""
    where = _address(target, node)
    known = target.ssh_options.get("UserKnownHostsFile", "~/.ssh/known_hosts")
    host = where.rsplit(":", 1)[0]
    floating = target.name == "chameleon" and target.cluster.node(node).jump
    address = "the address"
    if floating:
        address = "the floating IP (GOURMETOPS_FLOATING_IP or floating_ip)"
    fixes = {
        REFUSED: f"nothing accepts SSH at {where}: check {address} and that {node} is up",
        TIMED_OUT: f"nothing answered at {where}: check {address}, that {node} is up and "
        "that its security group allows SSH",
        NO_ROUTE: f"no route to {where}: check {address} and this machine's network",
        NOT_RESOLVED: f"the name of {node} does not resolve: check HostName in the ssh_config",
        KEY_REFUSED: _key_fix(target, node),
        HOST_KEY_CHANGED: f"its host key is not the one in {known} (a rebuilt node, or a "
        f"man-in-the-middle); if it was rebuilt: {shlex.join(['ssh-keygen', '-R', host])}",
        HOST_KEY_UNKNOWN: f"its host key is not in {known}",
        DROPPED: f"{node} closed the connection before login (booting, or its sshd busy); "
        "run again",
    }
    return fixes.get(cause, f"check that {node} is up and sshd answers")


def advice(target: Target, node: str, cause: str | None) -> str:
    """The cause, what to do about it, and the command that shows it by hand."""
    fix = _fix(target, node, cause or "")
    return f"{cause or 'could not connect'}: {fix}; try it yourself: {try_command(target, node)}"


def describe(target: Target, node: str, cause: str | None, detail: str) -> str:
    """One line: the node, ssh's or paramiko's own words in brackets, then `advice`; a worker
    that failed at the jump host is said to be unreachable through it."""
    found = target.cluster.node(node)
    jump = target.cluster.jump.name
    detail = " ".join(detail.split())[:200]
    said = f" ({detail})" if detail else ""
    if not found.jump and cause and _at_jump_host(target, detail):
        return f"{node}: not reached through {jump}{said}: {jump}'s {advice(target, jump, cause)}"
    return f"{node}: could not connect over SSH{said}: {advice(target, node, cause)}"


def ssh_advice(target: Target, node: str, stderr: str) -> str:
    """`advice` for ssh's failure to reach `node`: about the jump host when that is where
    it failed (a worker is reached through it)."""
    cause = cause_in(stderr)
    jump = target.cluster.jump.name
    if node != jump and _at_jump_host(target, stderr):
        return f"{jump} could not be reached: {advice(target, jump, cause)}"
    return advice(target, node, cause)


def _at_jump_host(target: Target, detail: str) -> bool:
    """Whether a worker's failure text is about the jump host (ssh and paramiko name its
    address: "connect to host A port 22", "port 22 on A", "cc@A: Permission denied")."""
    public = target.public_address
    return any(
        f"{at}{public}{end}" in detail for at, end in (("host ", " port"), ("on ", ""), ("@", ":"))
    )


def from_exception(target: Target, node: str, exc: BaseException) -> Unreachable | None:
    """`exc` from paramiko or a socket as Unreachable, or None when it is something else."""
    cause = cause_of(exc)
    if cause is None:
        return None
    return Unreachable(node, describe(target, node, cause, str(exc) or type(exc).__name__))


def from_ssh(target: Target, node: str, stderr: str) -> Unreachable:
    """ssh's exit 255 as Unreachable: its stderr's line that names the failure."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    named = [line for line in lines if cause_in(line)]
    detail = (named or lines or ["ssh exited 255"])[0]
    return Unreachable(node, describe(target, node, cause_in(stderr), detail))


# Everything a connection attempt raises besides our own errors: paramiko's, the socket's.
CONNECT_ERRORS = (SSHException, OSError, EOFError)
