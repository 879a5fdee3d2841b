"""Small helpers for running host commands as the lab does (root, loud on failure)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from gourmetops import output
from gourmetops.errors import GourmetopsError

REQUIRED_TOOLS = (
    "ip",
    "mount",
    "umount",
    "systemd-nspawn",
    "debootstrap",
    "dpkg-deb",
    "ssh-keygen",
    "ssh",
    "unshare",
    "chroot",
)


class LabError(GourmetopsError, RuntimeError):
    """The lab cannot be brought to the asked state; the message says what to fix."""


def say(message: str) -> None:
    output.say(f"lab: {message}", err=True)


def run(
    cmd: Sequence[str], *, check: bool = True, quiet: bool = False, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, input=input)
    if check and proc.returncode != 0:
        raise LabError(
            f"`{' '.join(cmd)}` failed ({proc.returncode}): "
            f"{(proc.stderr or proc.stdout).strip()[-2000:]}"
        )
    if not quiet and proc.returncode != 0:
        say(f"ignored failure of `{' '.join(cmd)}`: {proc.stderr.strip()}")
    return proc


NEEDS_ROOT = (
    "the lab needs root (network namespaces, overlay mounts, systemd-nspawn); to drive your "
    "Chameleon nodes instead, add --target chameleon, or set it once: "
    "export GOURMETOPS_TARGET=chameleon"
)


def require_root_and_tools(euid: int | None = None) -> None:
    """Root and the host tools, before the lab touches anything; `euid` is the caller's
    (os.geteuid() when not given). Without root the likelier intent is Chameleon: said so."""
    if (os.geteuid() if euid is None else euid) != 0:
        raise LabError(NEEDS_ROOT)
    missing = [t for t in REQUIRED_TOOLS if shutil.which(t) is None]
    if missing:
        raise LabError(
            f"missing host tools: {', '.join(missing)} "
            "(apt-get install debootstrap systemd-container iproute2 openssh-client)"
        )
