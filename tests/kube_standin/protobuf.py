"""Request bodies in Kubernetes protobuf, decoded to the JSON form the stand-in stores: since
v1.32 kubectl's typed clients send them (`create namespace` a Namespace, `autoscale` an
autoscaling/v1 HorizontalPodAutoscaler, Content-Type application/vnd.kubernetes.protobuf),
and an API server accepts them for its built-in kinds.

The envelope is apimachinery's: the magic "k8s\\0", then a runtime.Unknown (typeMeta 1,
raw 2) (pkg/runtime/serializer/protobuf/protobuf.go). The messages and their field numbers
are v1.30's generated.proto files (apimachinery pkg/apis/meta/v1, api/core/v1,
api/autoscaling/v1), for the kinds above only: any other kind, or a field not listed, is
Unsupported (the server answers 415) rather than silently dropped. Go's JSON leaves zero
values of `omitempty` fields out; protobuf writes them, so they are dropped here, except
for pointer fields (kind "ptr"), which are only written when set."""

from __future__ import annotations

import datetime
from typing import Any

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"

# message -> field number -> (JSON name, kind): "string", "int" (omitempty), "ptr" (an
# optional int, kept at 0), "time" (meta/v1 Time), "map" (map<string, string>), "strings"
# (repeated string), or another message's name ("[]" in front: repeated).
MESSAGES: dict[str, dict[int, tuple[str, str]]] = {
    "ObjectMeta": {
        1: ("name", "string"),
        2: ("generateName", "string"),
        3: ("namespace", "string"),
        4: ("selfLink", "string"),
        5: ("uid", "string"),
        6: ("resourceVersion", "string"),
        7: ("generation", "int"),
        8: ("creationTimestamp", "time"),
        9: ("deletionTimestamp", "time"),
        10: ("deletionGracePeriodSeconds", "ptr"),
        11: ("labels", "map"),
        12: ("annotations", "map"),
        14: ("finalizers", "strings"),
    },
    "Namespace": {
        1: ("metadata", "ObjectMeta"),
        2: ("spec", "NamespaceSpec"),
        3: ("status", "NamespaceStatus"),
    },
    "NamespaceSpec": {1: ("finalizers", "strings")},
    "NamespaceStatus": {1: ("phase", "string")},
    "HorizontalPodAutoscaler": {
        1: ("metadata", "ObjectMeta"),
        2: ("spec", "HorizontalPodAutoscalerSpec"),
        3: ("status", "HorizontalPodAutoscalerStatus"),
    },
    "HorizontalPodAutoscalerSpec": {
        1: ("scaleTargetRef", "CrossVersionObjectReference"),
        2: ("minReplicas", "ptr"),
        3: ("maxReplicas", "int"),
        4: ("targetCPUUtilizationPercentage", "ptr"),
    },
    "CrossVersionObjectReference": {
        1: ("kind", "string"),
        2: ("name", "string"),
        3: ("apiVersion", "string"),
    },
    "HorizontalPodAutoscalerStatus": {
        1: ("observedGeneration", "ptr"),
        2: ("lastScaleTime", "time"),
        3: ("currentReplicas", "int"),
        4: ("desiredReplicas", "int"),
        5: ("currentCPUUtilizationPercentage", "ptr"),
    },
}
KINDS = {
    ("v1", "Namespace"): "Namespace",
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "HorizontalPodAutoscaler",
}


class Unsupported(ValueError):
    """A body this decoder does not cover (kind, field or wire type)."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise Unsupported("truncated varint")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, varint value or bytes) in order; other wire types are Unsupported."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value - (1 << 64) if value >= 1 << 63 else value))
        elif wire == 2:
            size, pos = _varint(data, pos)
            out.append((number, data[pos : pos + size]))
            pos += size
        else:
            raise Unsupported(f"wire type {wire}")
    return out


def _time(data: bytes) -> str | None:
    """meta/v1 Time {seconds 1, nanos 2}: RFC 3339 in seconds, null when zero."""
    seconds = next((v for n, v in _fields(data) if n == 1 and isinstance(v, int)), 0)
    if not seconds:
        return None
    when = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _message(name: str, data: bytes) -> dict[str, Any]:
    spec = MESSAGES[name]
    out: dict[str, Any] = {}
    for number, value in _fields(data):
        if number not in spec:
            raise Unsupported(f"{name} field {number}")
        key, kind = spec[number]
        if isinstance(value, int):
            if kind not in ("int", "ptr"):
                raise Unsupported(f"{name}.{key}: a number for {kind}")
            if value or kind == "ptr":
                out[key] = value
            continue
        if kind == "string":
            if value:
                out[key] = value.decode()
        elif kind == "time":
            if _time(value) is not None:
                out[key] = _time(value)
        elif kind == "map":
            entry = dict(_fields(value))
            k, v = entry.get(1, b""), entry.get(2, b"")
            if isinstance(k, bytes) and isinstance(v, bytes):
                out.setdefault(key, {})[k.decode()] = v.decode()
        elif kind == "strings":
            out.setdefault(key, []).append(value.decode())
        elif kind.startswith("[]"):
            out.setdefault(key, []).append(_message(kind[2:], value))
        elif kind in MESSAGES:
            inner = _message(kind, value)
            if inner or key in ("spec", "status"):
                out[key] = inner
        else:
            raise Unsupported(f"{name}.{key}: bytes for {kind}")
    return out


def decode(body: bytes) -> dict[str, Any]:
    """The object in a protobuf request body, as JSON would carry it."""
    if not body.startswith(MAGIC):
        raise Unsupported("no k8s protobuf magic")
    unknown = dict(_fields(body[len(MAGIC) :]))
    type_meta, raw = unknown.get(1, b""), unknown.get(2, b"")
    if not isinstance(type_meta, bytes) or not isinstance(raw, bytes):
        raise Unsupported("not a runtime.Unknown")
    meta = {n: v.decode() for n, v in _fields(type_meta) if isinstance(v, bytes)}
    api_version, kind = meta.get(1, ""), meta.get(2, "")
    message = KINDS.get((api_version, kind))
    if message is None:
        raise Unsupported(f"{api_version} {kind}")
    return {"apiVersion": api_version, "kind": kind, **_message(message, raw)}
