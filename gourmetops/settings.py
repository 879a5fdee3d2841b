"""A target's settings as pyinfra sees them (group_data/all.py, then group_data/<target>.py,
then the host's own data from the inventory), validated against settings_schema.Settings
before anything connects, so Fabric tasks and deploys read one checked set of values.

Read the way pyinfra reads group data, but without importing pyinfra_cli: that import
monkey-patches the whole process with gevent, which stalls Fabric's threaded I/O.
tests/test_inventories.py checks both readings agree.
"""

from __future__ import annotations

import ast
import copy
import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gourmetops import PROJECT_ROOT
from gourmetops.errors import InputError, PyinfraInventoryError
from gourmetops.settings_schema import PYINFRA_PREFIXES, HostSettings, Settings
from gourmetops.targets import Target, get_target
from gourmetops.validation import problems

GROUP_DATA = PROJECT_ROOT / "group_data"
# What the inventory adds per host (targets.Target.inventory_data), not settings.
HOST_KEYS = {"ssh_config_file", "private_address", "kube_roles", "target", "cluster_user"}
_FOR_HOST = HOST_KEYS | {"ssh_connect_retries"}


class SettingsError(InputError, PyinfraInventoryError):
    """A setting in group_data (or pyinfra's --data) is refused; the message names the file,
    the setting and what to write. In pyinfra's process an InventoryError (printed plainly)."""


def _imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def group_data(path: Path) -> dict[str, Any]:
    """The names a group_data file defines, as pyinfra takes them."""
    if not path.exists():
        return {}
    attrs = runpy.run_path(str(path))
    imported = _imported_names(path)
    keys = attrs.get("__all__") or [k for k in attrs if k not in imported]
    return {k: v for k, v in attrs.items() if k in keys and not k.startswith("__")}


def _files(target: str) -> list[Path]:
    return [GROUP_DATA / "all.py", GROUP_DATA / f"{target}.py"]


def validate(values: Mapping[str, Any], origin: Mapping[str, str]) -> Settings:
    """Check every setting; each problem names where its value came from (`origin`)."""
    ours = {k: v for k, v in values.items() if not k.startswith(PYINFRA_PREFIXES)}
    ours = {k: v for k, v in ours.items() if k not in HOST_KEYS}
    try:
        return Settings.model_validate(ours)
    except ValidationError as err:

        def source(loc: tuple[Any, ...]) -> str:
            return origin.get(str(loc[0]), "group_data/all.py") if loc else "group_data"

        lines = problems(err, source, ours, known={(): list(Settings.model_fields)}, noun="setting")
        raise SettingsError("\n".join(lines)) from None


def target_settings(target: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The merged group_data of `target`, and which file each value came from."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for path in _files(target):
        data = group_data(path)
        values.update(data)
        origin.update({k: str(path.relative_to(PROJECT_ROOT)) for k in data})
    return values, origin


# (pyinfra run, target) -> its group_data: read once per run, not once per host (at twelve
# nodes the deploys' 24 reads of the files took a second of pyinfra's CPU).
_run_settings: dict[tuple[int, str], tuple[dict[str, Any], dict[str, str]]] = {}


def check_target(target: str) -> Settings:
    """group_data for `target`, validated (the inventories call this before connecting)."""
    return validate(*target_settings(target))


def _for_host(settings: Settings, data: Mapping[str, Any]) -> HostSettings:
    """The checked settings with the node's own inventory data (ours, not the user's)."""
    own = {k: v for k, v in data.items() if k in _FOR_HOST}
    return HostSettings.model_validate({**settings.model_dump(), **own})


def host_settings(target: str | Target, node: str | None = None) -> HostSettings:
    """The checked settings pyinfra gives `node` (default: the jump host) for `target` (a
    name, or a Target already built); connects nowhere."""
    tgt = get_target(target) if isinstance(target, str) else target
    settings = validate(*target_settings(tgt.name))
    return _for_host(settings, tgt.inventory_data(node or tgt.cluster.jump.name))


def of_host(host: Any) -> HostSettings:
    """A deploy's view of host.data, validated with pyinfra's --data overrides included:
    a bad override stops the deploy before its first operation."""
    data = host.data.dict()
    key = (id(host.state), data["target"])
    if key not in _run_settings:
        _run_settings[key] = target_settings(data["target"])
    values, origin = copy.deepcopy(_run_settings[key])
    for key, value in data.items():
        if key not in values or values[key] != value:
            origin[key] = "pyinfra --data"
    return _for_host(validate(data, origin), data)
