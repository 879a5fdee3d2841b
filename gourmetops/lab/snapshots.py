"""Saved node states a reset can start from instead of pristine nodes: each node's overlay
upper dir (its host keys and overlayfs whiteouts included) copied while the lab is down,
then mounted read-only as the topmost lower layer under a fresh upper dir, so a restore
copies nothing. The tests make their Docker-ready and converged nodes once per session and
restore them in seconds; a snapshot is refused once the rootfs under it was rebuilt, and
never changes while a node may sit on it (`drop_all` only with the lab down)."""

from __future__ import annotations

import shutil
from pathlib import Path

from gourmetops.lab import machines
from gourmetops.lab.system import LabError
from gourmetops.safe_write import write_text

SNAPSHOT_DIR = machines.DATA_DIR / "snapshots"
BASE = "lowers.txt"  # the recipes of the lower layers its upper dirs sit on, one a line


def keep(name: str, nodes: list[str], base: str) -> None:
    """Copy each (stopped) node's upper dir into snapshot `name`."""
    shutil.rmtree(SNAPSHOT_DIR / name, ignore_errors=True)
    for node in nodes:
        machines.copy_tree(machines.node_dir(node) / "upper", SNAPSHOT_DIR / name / node)
    write_text(SNAPSHOT_DIR / name / BASE, base, f"snapshot {name}'s base")


def upper_of(name: str, node: str, base: str) -> Path:
    """Where node's saved upper dir (its layer) is; a missing or outdated snapshot is an
    error."""
    where = SNAPSHOT_DIR / name
    if not (where / node).is_dir():
        raise LabError(f"no lab snapshot {name!r} for {node} under {SNAPSHOT_DIR}")
    if (where / BASE).read_text() != base:
        raise LabError(f"lab snapshot {name!r} was made on an older rootfs; make it again")
    return where / node


def exists(name: str) -> bool:
    return (SNAPSHOT_DIR / name / BASE).exists()


def drop_all() -> None:
    shutil.rmtree(SNAPSHOT_DIR, ignore_errors=True)
