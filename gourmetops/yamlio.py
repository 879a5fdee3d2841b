"""The one YAML writer: block style, no line re-wrapping. Round-trip (ruamel's default
loader and dumper) where a file must come back byte for byte as upstream wrote it; plain
(safe) for the documents we make ourselves."""

from __future__ import annotations

import copy
import functools
import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent

from gourmetops.bounded import MAX_CONFIG_BYTES, read_capped
from gourmetops.errors import GourmetopsError, InputError


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


@functools.lru_cache(maxsize=32)
def _parsed(text: str) -> tuple[Any, str | None]:
    """(document, None), or (None, the problem in one line without the file's name): a run
    reads cluster.yaml once per target it builds, so each text is parsed once."""
    from gourmetops.validation import yaml_problem  # local: pydantic, slow to import

    yaml = YAML(typ="safe", pure=True)
    try:
        for event in yaml.parse(text):
            if isinstance(event, AliasEvent):
                mark = event.start_mark
                return None, (
                    f"line {mark.line + 1}, column {mark.column + 1}: YAML aliases "
                    f"(*{event.anchor}) are not accepted here; write the value out in full"
                )
        return YAML(typ="safe").load(text), None
    except YAMLError as exc:
        return None, f"not valid YAML: {yaml_problem(exc)}"


def load_config(
    path: Path, error: type[GourmetopsError] = InputError, limit: int = MAX_CONFIG_BYTES
) -> Any:
    """A configuration file the user wrote (cluster.yaml, chameleon.local.yaml), read
    bounded: a regular file of at most `limit` bytes, UTF-8, and no YAML alias (`*name`: a
    few of them nest into a document of billions of nodes). Problems raise `error` naming
    the file; a missing or unreadable file raises OSError for the caller to word."""
    try:
        text = read_capped(path, limit).decode()
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except GourmetopsError as exc:
        raise error(str(exc)) from None
    document, problem = _parsed(text)
    if problem is not None:
        raise error(f"{path}: {problem}")
    return copy.deepcopy(document)  # the cached parse stays as the file said
