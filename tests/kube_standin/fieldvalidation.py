"""Server-side field validation as the v1.30 API server does it (KEP 2885, GA in 1.27): the
`fieldValidation` query parameter of POST/PUT/PATCH, Strict, Warn (the default when absent:
apiserver endpoints/handlers fieldValidation()) or Ignore, for unknown and duplicate fields.
Which fields exist comes from the v1.30 schemas kubernetes-validate ships (schema.py's).

The wording, each from the source that writes it:
- create/update decode with sigs.k8s.io/json UnmarshalStrict, errors in document order, a
  field both unknown and duplicated reported once as unknown: `unknown field "spec.x"`,
  `duplicate field "spec.replicas"`, `containers[0]` for list items; joined by
  apimachinery runtime.strictDecodingError as `strict decoding error: a, b`; Strict is a
  400 `Deployment in version "v1" cannot be handled as a Deployment: ...`
  (handlers/rest.go transformDecodeError);
- merge and strategic merge patches (handlers/patch.go): the patch's duplicates first
  (decoded into a map: all keys count), then the patched object's unknown fields as the
  unstructured converter finds them (each struct's fields, then its own unknown keys
  sorted); Strict is a 422 ` "" is invalid: patch: Invalid value: "<patch>": strict
  decoding error: ...` (errors.NewInvalid with an empty GroupKind and name);
- server-side apply: an unknown field fails structured-merge-diff's typed conversion
  whatever the directive (managedfields/internal/structuredmerge.go), `failed to create
  typed patch object (ns/name; apps/v1, Kind=Deployment): .spec.x: field not declared in
  schema`, a plain error the API server answers 500 without a reason
  (kubernetes/kubernetes#122480);
- Warn: one `Warning: 299 - "<text>"` header a problem (handlers addStrictDecodingWarnings),
  the request succeeding with the unknown fields dropped and the last duplicate kept.

Not modelled: the order Go's struct fields give (properties are walked in the schema's
alphabetical order, which differs only with unknown fields in several nested structs),
duplicate keys in server-side apply's YAML (`error strict decoding YAML`), strict errors of
JSON patches (kubectl sends one only to migrate field ownership), and refusing an invalid
directive value."""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from typing import Any

from kubernetes_validate import utils

from tests.kube_standin.schema import VERSION

STRICT, WARN, IGNORE = "Strict", "Warn", "Ignore"
_LIMIT = 100  # sigs.k8s.io/json saveStrictError keeps at most 100


class Pairs(list):
    """A JSON object as its (key, value) pairs in document order, duplicates kept."""


def parse(raw: bytes) -> Any:
    """The body as the strict decoder reads it; None when it is not JSON (YAML bodies are
    read without duplicates)."""
    try:
        return json.loads(raw or b"{}", object_pairs_hook=Pairs)
    except ValueError:
        return None


def directive(query: dict[str, str]) -> str:
    return query.get("fieldValidation") or WARN


@functools.cache
def _defs() -> dict[str, dict[str, Any]]:
    path = f"kubernetes-json-schema/v{VERSION}.0-local/_definitions.json"
    return utils.schema_contents(path, VERSION)["$defs"]


def definition(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"io.k8s.api.{group.split('.')[0] or 'core'}.{version}.{kind}"


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while True:
        if "$ref" in node:
            node = _defs()[node["$ref"].rsplit("/", 1)[-1]]
        elif len(node.get("allOf", ())) == 1:
            node = node["allOf"][0]
        else:
            return node


def _join(path: tuple[str, ...], key: str) -> str:
    return ".".join((*path, key))


def _index(path: tuple[str, ...], i: int) -> tuple[str, ...]:
    return (*path[:-1], f"{path[-1]}[{i}]") if path else (f"[{i}]",)


def _add(out: list[str], text: str) -> None:
    if text not in out and len(out) < _LIMIT:
        out.append(text)


def typed(doc: Any, def_name: str) -> list[str]:
    """Strict errors of a create or update body decoded into the kind's struct."""
    out: list[str] = []
    _typed(doc, {"$ref": def_name}, (), out)
    return out


def _typed(node: Any, schema: dict[str, Any], path: tuple[str, ...], out: list[str]) -> None:
    s = _resolve(schema)
    if isinstance(node, Pairs):
        props = s.get("properties")
        values = s.get("additionalProperties")
        if props is None and not isinstance(values, dict):
            return  # free-form (FieldsV1, RawExtension): no strict errors inside
        seen: set[str] = set()
        for key, value in node:
            if props is not None and key not in props:
                _add(out, f'unknown field "{_join(path, key)}"')
                continue
            if key in seen:
                _add(out, f'duplicate field "{_join(path, key)}"')
            seen.add(key)
            _typed(value, props[key] if props is not None else values, (*path, key), out)
    elif isinstance(node, list) and "items" in s:
        for i, item in enumerate(node):
            _typed(item, s["items"], _index(path, i), out)


def duplicates(doc: Any) -> list[str]:
    """Duplicate keys anywhere in a patch, as decoding it into a map finds them."""
    out: list[str] = []
    _duplicates(doc, (), out)
    return out


def _duplicates(node: Any, path: tuple[str, ...], out: list[str]) -> None:
    if isinstance(node, Pairs):
        seen: set[str] = set()
        for key, value in node:
            if key in seen:
                _add(out, f'duplicate field "{_join(path, key)}"')
            seen.add(key)
            _duplicates(value, (*path, key), out)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _duplicates(item, _index(path, i), out)


def unknown(obj: Any, def_name: str) -> list[str]:
    """Unknown fields of a (patched) object as the unstructured converter reports them."""
    out: list[str] = []
    _unknown(obj, {"$ref": def_name}, (), out)
    return out


def _unknown(node: Any, schema: dict[str, Any], path: tuple[str, ...], out: list[str]) -> None:
    s = _resolve(schema)
    if isinstance(node, dict):
        props = s.get("properties")
        values = s.get("additionalProperties")
        if props is not None:
            for key, sub in props.items():
                if key in node:
                    _unknown(node[key], sub, (*path, key), out)
            for key in sorted(k for k in node if k not in props):
                _add(out, f'unknown field "{_join(path, key)}"')
        elif isinstance(values, dict):
            for key, value in node.items():
                _unknown(value, values, (*path, key), out)
    elif isinstance(node, list) and "items" in s:
        for i, item in enumerate(node):
            _unknown(item, s["items"], _index(path, i), out)


def prune(obj: Any, def_name: str) -> Any:
    """The object as the typed decoder keeps it: unknown fields dropped."""
    return _prune(obj, {"$ref": def_name})


def _prune(node: Any, schema: dict[str, Any]) -> Any:
    s = _resolve(schema)
    if isinstance(node, dict):
        props = s.get("properties")
        values = s.get("additionalProperties")
        if props is not None:
            return {k: _prune(v, props[k]) for k, v in node.items() if k in props}
        if isinstance(values, dict):
            return {k: _prune(v, values) for k, v in node.items()}
    elif isinstance(node, list) and "items" in s:
        return [_prune(item, s["items"]) for item in node]
    return node


def not_declared(obj: Any, def_name: str) -> list[str]:
    """Unknown fields as structured-merge-diff's typed conversion names them for server-side
    apply: `.spec.x`, list items by their keys (`[name="app"]`) or index."""
    out: list[str] = []
    _smd(obj, {"$ref": def_name}, "", out)
    return out


def _smd(node: Any, schema: dict[str, Any], path: str, out: list[str]) -> None:
    s = _resolve(schema)
    if isinstance(node, dict):
        props = s.get("properties")
        values = s.get("additionalProperties")
        for key, value in node.items():
            if props is not None and key not in props:
                _add(out, f"{path}.{key}: field not declared in schema")
            elif props is not None:
                _smd(value, props[key], f"{path}.{key}", out)
            elif isinstance(values, dict):
                _smd(value, values, f"{path}.{key}", out)
    elif isinstance(node, list) and "items" in s:
        keys = s.get("x-kubernetes-list-map-keys") or []
        for i, item in enumerate(node):
            named = [k for k in keys if isinstance(item, dict) and k in item]
            if named and s.get("x-kubernetes-list-type") == "map":
                element = ",".join(f"{k}={json.dumps(item[k])}" for k in named)
            else:
                element = str(i)
            _smd(item, s["items"], f"{path}[{element}]", out)


def go_quote(text: str) -> str:
    """Go's %q of a string (strconv.Quote) for the printable text a Status carries."""
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    out = []
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _go_float(value: float) -> str:
    """Go's %v of a float64: the shortest digits, %e from an exponent of 6 (strconv 'g')."""
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    exp10 = len(text) + exponent - 1
    minus = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    return minus + format(Decimal(repr(abs(value))).normalize(), "f")


def go_value(value: Any) -> str:
    """Go's %+v of a decoded JSON value (map[string]interface{} keys sorted, as fmt prints)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)
