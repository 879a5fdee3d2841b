"""Shared pieces of the input schemas (cluster.yaml, group_data settings, task flags):
the constrained types, and pydantic's errors turned into one line per problem that names
the file, the field and the fix.

    >>> problems(err, "cluster.yaml", raw)
    ["cluster.yaml: node 'node2' name: 'node 2' is not a valid node name: ..."]
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationError

# Every pattern is matched whole (`fullmatch`: no '$' that stops before a trailing newline)
# and in ASCII (no Unicode digits or case folds).
# RFC 1123 label: what Kubernetes accepts as a node name and ssh_config as a Host alias.
HOSTNAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", re.ASCII)
# POSIX portable user names, as useradd accepts them by default (no leading '-', no ':').
POSIX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}", re.ASCII)
# A git branch/tag/commit name that cannot be taken for an option or hold a shell word
# break (git check-ref-format's rules, narrowed to what kubespray and the app use).
GIT_REF = re.compile(r"(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/+-]{1,200}(?<![./])", re.ASCII)
# Where a repository or an app comes from: a URL or a path, never an option (leading '-'):
# printable ASCII only, so no whitespace or control character of any alphabet.
SOURCE = re.compile(r"(?!-)[!-~]{1,500}", re.ASCII)
# A relative path inside a home directory or a checkout: no '..', no leading '/'.
RELATIVE_PATH = re.compile(r"(?!/)(?!(.*/)?\.\.(/|\Z))[A-Za-z0-9._/-]{1,200}", re.ASCII)
# A Debian package name (Debian policy 5.6.1).
DEB_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+", re.ASCII)
# An image reference: [registry[:port]/]name[:tag] (distribution's reference grammar, simplified).
IMAGE_REF = re.compile(
    r"(?!-)[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?",
    re.ASCII,
)
# host:port of the registry, as Docker writes it in insecure-registries.
HOST_PORT = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?:[0-9]{1,5}", re.ASCII)
KUBE_VERSION = re.compile(r"v[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)


def whole(pattern: re.Pattern[str], value: str) -> bool:
    """`value` is all `pattern`, to its last character (a trailing newline included)."""
    return pattern.fullmatch(value) is not None


def _matching(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: str) -> str:
        if not whole(pattern, value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


def _string_only(value: Any) -> Any:
    """YAML turns 1.30 into the number 1.3 and yes into True: refuse, don't stringify."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {value!r} (quote it in YAML)")
    return value


StrOnly = BeforeValidator(_string_only)
Hostname = Annotated[
    str,
    StrOnly,
    _matching(
        HOSTNAME,
        "a valid node name: lowercase letters, digits and '-', starting and ending with a "
        "letter or digit, at most 63 characters (RFC 1123, as Kubernetes requires)",
    ),
]
PosixUser = Annotated[
    str,
    StrOnly,
    _matching(
        POSIX_USER,
        "a valid user name: lowercase letters, digits, '_' and '-', "
        "starting with a letter or '_', at most 32 characters",
    ),
]
GitRef = Annotated[str, StrOnly, _matching(GIT_REF, "a git branch, tag or commit name")]
Source = Annotated[str, StrOnly, _matching(SOURCE, "a URL or path (no spaces, no leading '-')")]
RelativePath = Annotated[
    str, StrOnly, _matching(RELATIVE_PATH, "a relative path without '..' (letters, digits, ._/-)")
]
DebPackage = Annotated[str, StrOnly, _matching(DEB_PACKAGE, "a Debian package name")]
ImageRef = Annotated[str, StrOnly, _matching(IMAGE_REF, "an image reference like name:tag")]
HostPort = Annotated[str, StrOnly, _matching(HOST_PORT, "host:port (e.g. node1:5000)")]


def _ipv4(value: Any) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(_string_only(value))
    except ipaddress.AddressValueError:
        raise ValueError(f"{value!r} is not an IPv4 address (expected A.B.C.D)") from None


def _ipv4_network(value: Any) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(_string_only(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an IPv4 network (expected A.B.C.D/N): {exc}") from None


def not_a_node(address: ipaddress.IPv4Address) -> str | None:
    """Why `address` cannot be a node's, or None. Loopback stays allowed: the tests stand a
    loopback address in for the floating IP so that no packet leaves the machine."""
    if address.is_unspecified:
        return "is the unspecified address, which no node has"
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return "is the broadcast address, which no node has"
    if address.is_multicast:
        return "is a multicast address, which no node has"
    return None


def _node_ipv4(address: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    why = not_a_node(address)
    if why:
        raise ValueError(f"{str(address)!r} {why}")
    return address


IPv4 = Annotated[ipaddress.IPv4Address, BeforeValidator(_ipv4)]
# An address a node can have (node1's floating IP, its public address).
NodeIPv4 = Annotated[ipaddress.IPv4Address, BeforeValidator(_ipv4), AfterValidator(_node_ipv4)]
IPv4Net = Annotated[ipaddress.IPv4Network, BeforeValidator(_ipv4_network)]


def _child(node: Any, key: Any) -> Any:
    try:
        return node[key]
    except (KeyError, IndexError, TypeError):
        return None


def _where(loc: Sequence[Any], raw: Any, label_of: Any = None) -> str:
    """('nodes', 1, 'name') -> "node 'node2' name" when `label_of` can name the item,
    else "nodes[1].name"."""
    text, sep, node = "", "", raw
    for key in loc:
        child = _child(node, key)
        label = label_of(text, child) if isinstance(key, int) and label_of else None
        if label:
            text, sep = label, " "
        elif isinstance(key, int):
            text, sep = f"{text}[{key}]", "."
        else:
            text, sep = (f"{text}{sep}{key}" if text else str(key)), "."
        node = child
    return text or "(top level)"


_TYPE_WORDS = {
    "bool_type": "must be a boolean (true/false in YAML, True/False in Python)",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
}


def problems(
    err: ValidationError,
    source: str | Callable[[tuple[Any, ...]], str],
    raw: Any,
    known: Mapping[tuple[str, ...], Iterable[str]] | None = None,
    label_of: Any = None,
    noun: str = "key",
) -> list[str]:
    """One line per problem: "<source>: <where>: <what is wrong, and the fix>". `known`
    gives the valid keys at each level (list indices left out of the path), for
    "did you mean"; `label_of(path, item)` names a list item better than its index;
    `source` may be a function of the field's location (settings come from several files)."""
    lines = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        where_from = source(loc) if callable(source) else source
        kind = e["type"]
        value = e.get("input")
        if kind == "extra_forbidden":
            name = str(loc[-1])
            where = _where(loc[:-1], raw, label_of)
            level = tuple(str(k) for k in loc[:-1] if not isinstance(k, int))
            siblings = (known or {}).get(level, ())
            close = difflib.get_close_matches(name, list(siblings), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            prefix = f"{where}: " if loc[:-1] else ""
            lines.append(f"{where_from}: {prefix}unknown {noun} {name!r}{hint}")
            continue
        where = _where(loc, raw, label_of)
        if kind == "missing":
            lines.append(f"{where_from}: {where} is missing")
            continue
        if kind == "value_error":
            what = str(e["ctx"]["error"]) if "ctx" in e else e["msg"]
        elif kind in _TYPE_WORDS:
            what = f"{_TYPE_WORDS[kind]}, not {_short(value)}"
        elif kind == "literal_error":
            what = f"must be one of {e['ctx']['expected']}, not {value!r}"
        elif kind == "too_long":
            ctx = e.get("ctx", {})
            what = (
                f"must hold at most {ctx.get('max_length')} items, not {ctx.get('actual_length')}"
            )
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            what = e["msg"].replace("Input should be", "must be") + f", not {value!r}"
        else:
            what = e["msg"].replace("Input should", "must") + f" (got {_short(value)})"
        lines.append(f"{where_from}: {where}: {what}" if loc else f"{where_from}: {what}")
    return lines


def _short(value: Any, limit: int = 200) -> str:
    """repr(value), cut to `limit` characters: a refused list may hold thousands of items."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def yaml_problem(exc: Exception) -> str:
    """A YAML parser error in one line: where, and what the parser expected."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is None:
        return str(problem)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
