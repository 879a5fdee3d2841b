"""Kubernetes quantities ("500m", "300Mi") parsed by the kubernetes client's own
`parse_quantity`, loaded from its file alone: `import kubernetes.utils` runs the package's
__init__, which imports the whole API client (0.3 s in every pyinfra process, where the
settings are checked, for one function that needs only `decimal`).

    >>> parse_quantity("300Mi")
    Decimal('314572800')
"""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path


def _load():
    package = importlib.util.find_spec("kubernetes")  # found, not imported
    if package is None or package.origin is None:
        raise ImportError("the kubernetes client is not installed (pip install -e .)")
    path = Path(package.origin).parent / "utils" / "quantity.py"
    spec = importlib.util.spec_from_file_location("gourmetops._kubernetes_quantity", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.parse_quantity


_parse = _load()


def parse_quantity(value: str | int | float | Decimal) -> Decimal:
    """The quantity's value (ValueError when it is not one), as kubernetes.utils gives it."""
    return _parse(value)
