"""The stages `fab up` runs in order, each a small named step (k0sctl's phases as model).

Stages drive the same entry points a user would type, so `fab prepare` and
`pyinfra inventories/<target>.py deploys/prepare.py` are one code path.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from gourmetops import PROJECT_ROOT
from gourmetops.targets import TARGETS, TargetError


def inventory_path(target: str) -> Path:
    if target not in TARGETS:
        raise TargetError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    return PROJECT_ROOT / "inventories" / f"{target}.py"


def pyinfra_command(target: str, deploy: str, *, dry: bool = False) -> list[str]:
    """The pyinfra CLI call for one deploy file. A dry run lists the detected changes
    (pyinfra skips change detection under -y, so -y is only given for real runs)."""
    pyinfra = Path(sys.executable).with_name("pyinfra")
    cmd = [
        str(pyinfra),
        str(inventory_path(target).relative_to(PROJECT_ROOT)),
        f"deploys/{deploy}.py",
    ]
    return cmd + ["--dry"] if dry else cmd + ["-y"]


_CONNECT_FAILED = re.compile(
    r"^\s*\[(?P<host>[^\]]+)\] (?:SSH error|Could not connect|Connection error)", re.M
)
_OP_FAILED = re.compile(r"^\s*\[(?P<host>[^\]]+)\] Error", re.M)


def failed_hosts(pyinfra_output: str) -> dict[str, str]:
    """Hosts a pyinfra run could not reach or failed on, from its log: host -> why."""
    failed = {
        m["host"]: "could not connect over SSH" for m in _CONNECT_FAILED.finditer(pyinfra_output)
    }
    for m in _OP_FAILED.finditer(pyinfra_output):
        failed.setdefault(m["host"], "an operation failed")
    return failed
