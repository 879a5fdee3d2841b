"""/openapi/v2 as kubectl downloads it for client-side validation: the gnostic OpenAPI v2
Document in protobuf (client-go discovery `OpenAPISchema` asks for
application/com.github.proto-openapi.spec.v2@v1.0+protobuf and unmarshals nothing else),
field numbers from google/gnostic openapiv2/OpenAPIv2.proto.

The definitions are the v1.30 JSON schemas kubernetes-validate ships (the ones schema.py
checks answers against), converted back to Swagger 2.0 form, for the kinds the tutorial uses
and what they reference. No paths are listed, so kubectl finds no `fieldValidation`
parameter and validates on its side (cli-runtime QueryParamVerifier -> ParamUnsupported),
as it does against an API server without server-side field validation."""

from __future__ import annotations

import functools
import json
import struct
from typing import Any

from kubernetes_validate import utils

from tests.kube_standin.schema import VERSION

KINDS = (
    "io.k8s.api.core.v1.Namespace",
    "io.k8s.api.core.v1.Service",
    "io.k8s.api.core.v1.Pod",
    "io.k8s.api.apps.v1.Deployment",
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
)
# kube-openapi handler.go answers with this Content-Type (the request asks for "...v2@v1.0...").
MIME = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _str(field: int, text: str) -> bytes:
    return _bytes(field, text.encode())


def _bool(field: int, value: bool) -> bytes:
    return _varint(field << 3) + _varint(int(value))


def _double(field: int, value: float) -> bytes:
    return _varint(field << 3 | 1) + struct.pack("<d", value)


def _named_any(name: str, value: Any) -> bytes:
    """NamedAny{name=1, value=Any{yaml=2}}: a vendor extension (JSON is YAML)."""
    return _str(1, name) + _bytes(2, _str(2, json.dumps(value)))


def _schema(s: dict[str, Any]) -> bytes:
    """openapi.v2.Schema from a kubernetes-validate JSON schema node."""
    out = b""
    if "$ref" in s:
        return _str(1, "#/definitions/" + s["$ref"].rsplit("/", 1)[-1])
    if "allOf" in s and len(s["allOf"]) == 1:
        return _schema(s["allOf"][0])
    if "oneOf" in s:  # Quantity and IntOrString: a string in Swagger 2.0
        types = {t for o in s["oneOf"] for t in o.get("type", [])}
        s = {"type": "string", **({"format": "int-or-string"} if "integer" in types else {})}
    if "format" in s:
        out += _str(2, s["format"])
    if "minimum" in s:
        out += _double(9, float(s["minimum"]))
    for req in s.get("required", []):
        out += _str(19, req)
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out += _bytes(21, _bytes(1, _schema(extra)))
    types = s.get("type", [])
    types = [t for t in ([types] if isinstance(types, str) else types) if t != "null"]
    if types:
        out += _bytes(22, b"".join(_str(1, t) for t in types))
    if "items" in s:
        out += _bytes(23, _bytes(1, _schema(s["items"])))
    if "properties" in s:
        named = (_bytes(1, _str(1, k) + _bytes(2, _schema(v))) for k, v in s["properties"].items())
        out += _bytes(25, b"".join(named))
    for key in sorted(k for k in s if k.startswith("x-kubernetes-")):
        out += _bytes(31, _named_any(key, s[key]))
    return out


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


@functools.cache
def definitions() -> dict[str, dict[str, Any]]:
    """The schemas of KINDS and everything they reference."""
    defs = utils.schema_contents(
        f"kubernetes-json-schema/v{VERSION}.0-local/_definitions.json", VERSION
    )["$defs"]
    wanted: dict[str, dict[str, Any]] = {}
    todo = list(KINDS)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted[name] = defs[name]
            todo.extend(_refs(defs[name]))
    return dict(sorted(wanted.items()))


@functools.cache
def v2() -> bytes:
    """The openapi.v2.Document: swagger=1, info=2 {title=1, version=2}, definitions=9."""
    info = _str(1, "Kubernetes") + _str(2, "v1.30.4")
    named = (_bytes(1, _str(1, k) + _bytes(2, _schema(v))) for k, v in definitions().items())
    return _str(1, "2.0") + _bytes(2, info) + _bytes(9, b"".join(named))
