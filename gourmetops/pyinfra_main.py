"""pyinfra's command line as the stages start it (`python -m gourmetops.pyinfra_main`, the
same arguments as `python -m pyinfra`), with installed entry points read once.

Importing pyinfra's CLI monkey-patches gevent, and gevent asks importlib.metadata for its
plugins 25 times, each a scan of every installed distribution's metadata (114 in the dev
virtualenv): about 0.15 s of a 1.4 s no-op prepare (docs/benchmarks.md). The installed set
cannot change during one run, so the first full scan answers every later query."""

from __future__ import annotations

import functools
import importlib.metadata as metadata
from typing import Any

_scan = metadata.entry_points


@functools.cache
def _every() -> Any:
    """Every installed entry point, as `entry_points()` gives them (deduplicated)."""
    return _scan()


def entry_points(**params: Any) -> Any:
    """`importlib.metadata.entry_points`, answered from one scan."""
    return _every().select(**params) if params else _scan()


def main() -> None:
    metadata.entry_points = entry_points
    from pyinfra_cli.main import main as pyinfra

    pyinfra()


if __name__ == "__main__":
    main()
