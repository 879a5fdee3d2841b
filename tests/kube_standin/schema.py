"""Every object the stand-in answers with, checked against the Kubernetes v1.30 OpenAPI
schema that kubernetes-validate ships (strict: unknown fields fail), so the stand-in's
shapes cannot drift from the real API's. Validators are built once per kind: this is
kubernetes_validate.validate's own procedure (utils.py), cached."""

from __future__ import annotations

import functools
import itertools
import json
import re
from typing import TYPE_CHECKING, Any

import jsonschema
from kubernetes_validate import utils
from referencing import Registry, Resource

if TYPE_CHECKING:
    from tests.kube_standin.cluster import Cluster

VERSION = "1.30"
# Kinds with no schema in the core OpenAPI document (aggregated or meta-only answers).
UNCHECKED = {
    "PodMetricsList",
    "PodMetrics",
    "NodeMetricsList",
    "NodeMetrics",
    "Table",
    "APIVersions",
    "APIGroupList",
    "APIResourceList",
}


@functools.cache
def _validator(kind: str, api_version: str) -> jsonschema.Validator:
    directory = f"kubernetes-json-schema/v{VERSION}.0-local-strict"
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = utils.schema_contents(f"{directory}/{kind.lower()}-{group_version}.json", VERSION)
    defs = utils.schema_contents(f"{directory}/_definitions.json", VERSION)
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _without_nulls(value: Any) -> Any:
    """Go's JSON writes a zero metav1.Time/MicroTime struct as null (Event's eventTime,
    firstTimestamp, lastTimestamp); the OpenAPI document types them as plain strings."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@functools.lru_cache(maxsize=4096)
def _problems(kind: str, api_version: str, text: str) -> tuple[str, ...] | None:
    """The first three problems of one answer (None: no schema for its kind). Kept by the
    answer's text: a poll answers the same object many times, and checking it again
    could find nothing new."""
    try:
        errors = _validator(kind, api_version).iter_errors(_without_nulls(json.loads(text)))
        first = list(itertools.islice(errors, 3))
    except FileNotFoundError:
        return None
    return tuple(
        f"{api_version} {kind} at {'.'.join(str(p) for p in err.absolute_path) or '(top)'}: "
        f"{err.message[:300]}"
        for err in first
    )


def check(cluster: Cluster, body: dict[str, Any]) -> None:
    """Records the kind as validated, or the problem in cluster.invalid."""
    kind, api_version = body.get("kind", ""), body.get("apiVersion", "")
    if kind in UNCHECKED or not kind:
        return
    if kind == "Status":  # served as v1, defined in meta/v1
        api_version = "meta.k8s.io/v1"
    problems = _problems(kind, api_version, json.dumps(body, sort_keys=True))
    if problems is None:
        cluster.invalid.append(f"{api_version} {kind}: no schema")
        return
    cluster.validated.append(kind)
    cluster.invalid.extend(problems)
