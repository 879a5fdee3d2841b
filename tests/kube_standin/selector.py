"""Label and field selectors from a list's query, as the API server applies them: every term
must hold (apimachinery pkg/labels selector.go: `k=v`, `k==v`, `k!=v`, `k`, `!k`,
`k in (a,b)`, `k notin (a,b)`; pkg/fields: `path=v`, `path!=v` on the fields a kind offers).
Without this, `-l node-role.kubernetes.io/control-plane` (no `=`) was an error, and
`kubectl describe node`'s pod list (spec.nodeName) came back empty."""

from __future__ import annotations

import re
from typing import Any

_TERM = re.compile(
    r"\s*(?P<not>!)?\s*(?P<key>[^\s,!=()]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[^\s,()]*)|\s+(?P<set>in|notin)\s*\((?P<values>[^)]*)\))?"
    r"\s*(?:,|$)"
)
# Field selectors pods and nodes support (pkg/registry/core/pod/strategy.go ToSelectableFields
# and the generic metadata ones), as paths into the object.
FIELDS = {
    "metadata.name": ("metadata", "name"),
    "metadata.namespace": ("metadata", "namespace"),
    "spec.nodeName": ("spec", "nodeName"),
    "status.phase": ("status", "phase"),
}


def _terms(selector: str) -> list[dict[str, str | None]]:
    terms, pos = [], 0
    while pos < len(selector):
        m = _TERM.match(selector, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unable to parse requirement: {selector[pos:]!r}")
        terms.append(m.groupdict())
        pos = m.end()
    return terms


def matches(selector: str, labels: dict[str, str]) -> bool:
    """Whether `labels` satisfy the label selector (empty: everything)."""
    for t in _terms(selector):
        key = t["key"] or ""
        if t["not"]:
            ok = key not in labels
        elif t["op"] in ("=", "=="):
            ok = labels.get(key) == t["value"]
        elif t["op"] == "!=":
            ok = labels.get(key) != t["value"]
        elif t["set"]:
            values = {v.strip() for v in (t["values"] or "").split(",")}
            ok = (key in labels and labels[key] in values) == (t["set"] == "in")
        else:
            ok = key in labels
        if not ok:
            return False
    return True


def fields_match(selector: str, obj: dict[str, Any]) -> bool:
    """Whether `obj` satisfies the field selector; a field it does not have is empty."""
    for t in _terms(selector):
        parent, name = FIELDS[t["key"] or ""]
        value = (obj.get(parent) or {}).get(name, "")
        if (value == t["value"]) != (t["op"] in ("=", "==")):
            return False
    return True
