"""Task flags parsed by name: every number, duration, port and URL a task takes is checked
here and refused with `--flag VALUE: what it must be`, never with a traceback. Defaults are
given as None in the task signatures, so invoke hands over the text as typed.

    >>> seconds("pause", "2m", default=30)
    120.0
    >>> whole("retries", "x", default=2)
    InputError: --retries 'x': must be a whole number >= 0
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from gourmetops.errors import InputError

# ASCII only: no Unicode digits ('٥'), and no case folds ('ſ' is 's' to re.IGNORECASE).
_DURATION = re.compile(r"(?P<n>-?[0-9]+(\.[0-9]+)?) *(?P<unit>[smh]?)", re.IGNORECASE | re.ASCII)
_WHOLE = re.compile(r"[-+]?[0-9]+", re.ASCII)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def whole(
    name: str,
    value: Any,
    default: int | None = None,
    minimum: int | None = 0,
    maximum: int | None = None,
) -> int:
    """A whole number within [minimum, maximum]; None (flag not given) is the default."""
    if value is None:
        if default is None:
            raise InputError(f"{_flag(name)} is required")
        return default
    bounds = [f">= {minimum}"] if minimum is not None else []
    bounds += [f"<= {maximum}"] if maximum is not None else []
    wanted = " ".join(["must be a whole number", " and ".join(bounds)]).strip()
    text = str(value).strip(" ")
    if _WHOLE.fullmatch(text) is None or len(text) > 20:  # int() would take '٥' and '1_000'
        raise InputError(f"{_flag(name)} {value!r}: {wanted}")
    number = int(text)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise InputError(f"{_flag(name)} {value!r}: {wanted}")
    return number


def optional_whole(name: str, value: Any, minimum: int | None = 0) -> int | None:
    """Like `whole`, but None stays None (the setting in group_data applies)."""
    return None if value is None else whole(name, value, minimum=minimum)


def port(name: str, value: Any, default: int) -> int:
    return whole(name, value, default, minimum=1, maximum=65535)


# The longest wait or pause a flag may ask for: a day, far above any wait of the tutorial
# and well inside time.sleep's range (a larger one overflowed after the cluster changed).
MAX_SECONDS = 24 * 3600


def seconds(name: str, value: Any, default: float, minimum: float = 0.0) -> float:
    """ "30", "30s", "2m", "1h" or "1.5" -> seconds, at least `minimum`, at most a day."""
    if value is None:
        return float(default)
    m = _DURATION.fullmatch(str(value).strip(" "))
    if m is None:
        raise InputError(
            f"{_flag(name)} {value!r}: must be seconds, or a number with s, m or h (e.g. 30s, 2m)"
        )
    number = float(m["n"]) * {"": 1, "s": 1, "m": 60, "h": 3600}[m["unit"].lower()]
    if number < minimum:
        raise InputError(f"{_flag(name)} {value!r}: must be at least {minimum:g}s")
    if number > MAX_SECONDS:
        raise InputError(f"{_flag(name)} {value!r}: must be at most {MAX_SECONDS}s (24h)")
    return number


def url(name: str, value: Any) -> str | None:
    """An http(s) URL with a host, or None (the task derives its own)."""
    if value is None:
        return None
    text = str(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", text):
        raise InputError(f"{_flag(name)} {value!r}: must be an http:// or https:// URL with a host")
    return text


def source(name: str, value: Any) -> str | None:
    """A git URL or path (a repository, a bundle, a directory); never an option for git."""
    from gourmetops.validation import SOURCE  # local: pydantic, slow to import for every `fab`

    if value is not None and not SOURCE.fullmatch(str(value)):
        raise InputError(
            f"{_flag(name)} {value!r}: must be a URL or path (no spaces, no leading '-')"
        )
    return value


def git_ref(name: str, value: Any) -> str | None:
    from gourmetops.validation import GIT_REF  # local: pydantic, slow to import for every `fab`

    if value is not None and not GIT_REF.fullmatch(str(value)):
        raise InputError(f"{_flag(name)} {value!r}: must be a git branch, tag or commit name")
    return value


def choice(name: str, value: Any, choices: tuple[str, ...], default: str) -> str:
    """One of `choices`; None (flag not given) is the default."""
    if value is None:
        return default
    if str(value) not in choices:
        raise InputError(f"{_flag(name)} {value!r}: must be one of {', '.join(choices)}")
    return str(value)
