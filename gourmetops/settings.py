"""A target's settings as pyinfra sees them (group_data/all.py, then group_data/<target>.py,
then the host's own data from the inventory), so Fabric tasks and deploys read one set of
values.

Read the way pyinfra reads group data, but without importing pyinfra_cli: that import
monkey-patches the whole process with gevent, which stalls Fabric's threaded I/O.
tests/test_inventories.py checks both readings agree.
"""

from __future__ import annotations

import ast
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from gourmetops import PROJECT_ROOT
from gourmetops.targets import get_target

GROUP_DATA = PROJECT_ROOT / "group_data"


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def group_data(path: Path) -> dict[str, Any]:
    """The names a group_data file defines, as pyinfra takes them."""
    if not path.exists():
        return {}
    attrs = runpy.run_path(str(path))
    keys = attrs.get("__all__") or [k for k in attrs if k not in _imported_names(path)]
    return {k: v for k, v in attrs.items() if k in keys and not k.startswith("__")}


def host_data(target: str, node: str | None = None) -> SimpleNamespace:
    """The data pyinfra gives `node` (default: the jump host) for `target`; connects nowhere."""
    tgt = get_target(target)
    name = node or tgt.cluster.jump.name
    data: dict[str, Any] = {}
    data.update(group_data(GROUP_DATA / "all.py"))
    data.update(group_data(GROUP_DATA / f"{target}.py"))
    data.update(tgt.host_data(name))
    return SimpleNamespace(**data)
