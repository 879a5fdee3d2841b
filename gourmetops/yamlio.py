"""The one YAML writer: block style, no line re-wrapping. Round-trip (ruamel's default
loader and dumper) where a file must come back byte for byte as upstream wrote it; plain
(safe) for the documents we make ourselves."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML


def roundtrip() -> YAML:
    """A loader/dumper that keeps comments, order and quotes, and never re-wraps a line."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def dump(data: Any, *, plain: bool = False, explicit_start: bool = False) -> str:
    """`data` as YAML text: round-trip by default (what `roundtrip()` loaded comes back as
    it was), or `plain` block style for plain dicts and lists."""
    if plain:
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
    else:
        yaml = roundtrip()
        yaml.explicit_start = explicit_start
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
