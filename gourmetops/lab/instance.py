"""Which lab this process drives. One per machine by default; GOURMETOPS_LAB_INSTANCE=NAME
runs another beside it (the CI's second lab-tier shard, in a copy of the checkout), with
every name the host sees its own: network namespaces and host link, cgroup, data and run
directories. The two labs' private addresses may repeat (they never have an end on the
host); their public networks may not, which `network.check_range_is_free` enforces.

    >>> default, second = instance_names(""), instance_names("b")
    >>> default.prefix, default.cgroup, str(default.data_dir), str(default.run_dir)
    ('gol-', 'gourmetops-lab', '/var/lib/gourmetops-lab', '/run/gourmetops-lab')
    >>> second.prefix, second.cgroup, str(second.data_dir), str(second.run_dir)
    ('gol_b-', 'gourmetops-lab-b', '/var/lib/gourmetops-lab-b', '/run/gourmetops-lab-b')
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from gourmetops.errors import InputError

INSTANCE_ENV = "GOURMETOPS_LAB_INSTANCE"
# Short: the host link's name (PREFIX + "public") must fit Linux's 15 characters.
_NAME = re.compile(r"[a-z0-9]{1,4}")


@dataclass(frozen=True)
class InstanceNames:
    prefix: str
    cgroup: str
    data_dir: Path
    run_dir: Path


def instance_names(name: str) -> InstanceNames:
    if name and not _NAME.fullmatch(name):
        raise InputError(
            f"{INSTANCE_ENV}={name!r}: use 1-4 lower-case letters or digits (or leave it unset)"
        )
    suffix = f"-{name}" if name else ""
    return InstanceNames(
        prefix=f"gol_{name}-" if name else "gol-",
        cgroup=f"gourmetops-lab{suffix}",
        data_dir=Path(f"/var/lib/gourmetops-lab{suffix}"),
        run_dir=Path(f"/run/gourmetops-lab{suffix}"),
    )


THIS = instance_names(os.environ.get(INSTANCE_ENV, ""))
