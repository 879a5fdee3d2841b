"""What an inventory file does in pyinfra's process, the same for every target: under `fab`,
our callback handler registered (gourmetops/pyinfra_events.py), then its group_data checked
and its groups built, before pyinfra connects anywhere.

A refusal reaches pyinfra's CLI as its own InventoryError, which it prints as a message (any
other exception from an inventory file it prints as a traceback). Only here: the `fab`
process, which turns our errors into messages itself, never imports pyinfra for them.

    >>> groups("lab")["head"]
    [('node1', {'target': 'lab', 'private_address': '10.254.1.11', ...})]
"""

from __future__ import annotations

from typing import Any

from pyinfra.api.exceptions import InventoryError

from gourmetops.errors import GourmetopsError
from gourmetops.jump import quiet_dropped_connections
from gourmetops.pyinfra_events import register
from gourmetops.settings import check_target
from gourmetops.targets import get_target


def groups(target: str) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """`head` (the jump host) and `workers` (the nodes behind it) of `target`."""
    try:
        register()  # first: a refusal below is reported in the events too
        check_target(target)  # group_data refused here, before pyinfra connects anywhere
        built = get_target(target).groups()
    except GourmetopsError as exc:
        raise InventoryError(str(exc)) from None
    quiet_dropped_connections()
    return built
