"""/openapi/v2 as kubectl downloads it for client-side validation: the gnostic OpenAPI v2
Document in protobuf (client-go discovery `OpenAPISchema` asks for
application/com.github.proto-openapi.spec.v2@v1.0+protobuf and unmarshals nothing else),
field numbers from google/gnostic openapiv2/OpenAPIv2.proto.

The definitions are the v1.30 JSON schemas kubernetes-validate ships (the ones schema.py
checks answers against), converted back to Swagger 2.0 form, for the kinds the tutorial uses
and what they reference. No paths are listed in /openapi/v2.

/openapi/v3 (kube-openapi handler3): the root lists a document per group-version, each an
OpenAPI 3.0 document (JSON) with the same schemas under components.schemas and, for each
kind the stand-in writes, its create and patch operations with their query parameters. kubectl
(v1.27 and later) reads the patch operation of the kind it writes and, finding
`fieldValidation` among its parameters, leaves validation to the server and sends
fieldValidation=Strict (cli-runtime QueryParamVerifierV3; without /openapi/v3 it falls back
to /openapi/v2, finds no parameter and validates on its side). kubectl apply also computes
its strategic merge patch from this document (apply/patcher.go
buildStrategicMergePatchFromOpenAPIV3, falling back to /openapi/v2 on any error)."""

from __future__ import annotations

import copy
import functools
import hashlib
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


# group-version path -> (kind, collection path, object path) for the kinds the stand-in writes.
V3_KINDS: dict[str, list[tuple[str, str, str]]] = {
    "api/v1": [
        ("Namespace", "/api/v1/namespaces", "/api/v1/namespaces/{name}"),
        (
            "Service",
            "/api/v1/namespaces/{namespace}/services",
            "/api/v1/namespaces/{namespace}/services/{name}",
        ),
        (
            "Secret",
            "/api/v1/namespaces/{namespace}/secrets",
            "/api/v1/namespaces/{namespace}/secrets/{name}",
        ),
    ],
    "apis/apps/v1": [
        (
            "Deployment",
            "/apis/apps/v1/namespaces/{namespace}/deployments",
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        )
    ],
    "apis/autoscaling/v2": [
        (
            "HorizontalPodAutoscaler",
            "/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers",
            "/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}",
        )
    ],
}
V3_MIME = "application/json"
_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)


def _v3_schema(node: Any) -> Any:
    """A kubernetes-validate JSON schema node in OpenAPI 3.0 form: refs to
    components.schemas, a single type, Quantity and IntOrString as the strings kube-openapi
    declares them."""
    if isinstance(node, list):
        return [_v3_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {"$ref": "#/components/schemas/" + node["$ref"].rsplit("/", 1)[-1]}
    out = {k: _v3_schema(v) for k, v in node.items() if k not in ("oneOf", "enum")}
    if "oneOf" in node:
        types = {t for o in node["oneOf"] for t in o.get("type", [])}
        out["type"] = "string"
        if "integer" in types:
            out["format"] = "int-or-string"
    types = node.get("type")
    if isinstance(types, list):
        kept = [t for t in types if t != "null"]
        out["type"] = kept[0] if len(kept) == 1 else kept
    return out


def _parameter(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": True}}


def _gvk(gv_path: str, kind: str) -> dict[str, str]:
    group, _, version = gv_path.removeprefix("apis/").removeprefix("api/").rpartition("/")
    return {"group": group, "kind": kind, "version": version}


@functools.cache
def v3_document(gv_path: str) -> bytes:
    """The OpenAPI 3.0 document of one group-version (paths and components.schemas)."""
    defs = utils.schema_contents(
        f"kubernetes-json-schema/v{VERSION}.0-local/_definitions.json", VERSION
    )["$defs"]
    group, _, version = gv_path.removeprefix("apis/").removeprefix("api/").rpartition("/")
    prefix = f"io.k8s.api.{group.split('.')[0] or 'core'}.{version}."
    paths: dict[str, Any] = {}
    wanted = [
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    ]
    for kind, collection, item in V3_KINDS[gv_path]:
        ref = {"$ref": f"#/components/schemas/{prefix}{kind}"}
        wanted.append(prefix + kind)
        common = {
            "x-kubernetes-group-version-kind": _gvk(gv_path, kind),
            "responses": {
                "200": {"description": "OK", "content": {V3_MIME: {"schema": ref}}},
                "401": {"description": "Unauthorized"},
            },
        }
        writes = [_parameter("dryRun"), _parameter("fieldManager"), _parameter("fieldValidation")]
        paths[collection] = {
            "post": {
                "description": f"create a {kind}",
                "parameters": writes,
                "requestBody": {"content": {"*/*": {"schema": ref}}, "required": True},
                "x-kubernetes-action": "post",
                **common,
            }
        }
        patch_ref = {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}
        paths[item] = {
            "patch": {
                "description": f"partially update the specified {kind}",
                "parameters": [*writes, _parameter("force", "boolean")],
                "requestBody": {
                    "content": {t: {"schema": patch_ref} for t in _PATCH_TYPES},
                    "required": True,
                },
                "x-kubernetes-action": "patch",
                **common,
            }
        }
    schemas: dict[str, Any] = {}
    while wanted:
        name = wanted.pop()
        if name not in schemas:
            node = defs.get(name, {"type": "object"})
            schemas[name] = _v3_schema(copy.deepcopy(node))
            wanted.extend(_refs(node))
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.30.4"},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
    return json.dumps(doc).encode()


def v3_root() -> bytes:
    """/openapi/v3: each group-version's document by its server-relative URL, the hash of
    its content in the query as kube-openapi's handler3 gives it."""
    paths = {
        gv: {
            "serverRelativeURL": f"/openapi/v3/{gv}?hash="
            + hashlib.sha512(v3_document(gv)).hexdigest().upper()
        }
        for gv in V3_KINDS
    }
    return json.dumps({"paths": paths}).encode()
