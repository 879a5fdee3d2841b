"""The stand-in's HTTP side: the REST paths gourmetops and kubectl use, `Status` errors, watch
streams, Table output, and every answer checked against the v1.30 OpenAPI schema."""

from __future__ import annotations

import copy
import json
import re
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ruamel.yaml import YAML

from tests.kube_standin import (
    admission,
    discovery,
    metrics,
    nodes,
    openapi,
    protobuf,
    schema,
    selector,
    tables,
)
from tests.kube_standin import fieldvalidation as fv
from tests.kube_standin.cluster import API, Cluster
from tests.kube_standin.ssa import Conflict, Fields, leaves

_PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[a-z0-9.]+)/(?P<ver>v[0-9a-z]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>[a-z]+)(?:/(?P<name>[^/]+))?"
    r"(?:/(?P<sub>status|scale))?$"
)
LISTS = {
    "pods": ("v1", "PodList"),
    "events": ("v1", "EventList"),
    "nodes": ("v1", "NodeList"),
    "replicasets": ("apps/v1", "ReplicaSetList"),
}


def status(code: int, reason: str, message: str, **extra: Any) -> dict[str, Any]:
    """A meta/v1 Status, as every API error is (apimachinery pkg/api/errors)."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
        **extra,
    }


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 merge patch, with lists of named maps merged by name as a strategic merge
    patch does for containers and ports (its `$` directives dropped)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and v and all(isinstance(i, dict) and "name" in i for i in v):
            by_name = {i.get("name"): i for i in out.get(k, []) if isinstance(i, dict)}
            out[k] = [merge_patch(by_name.get(i["name"], {}), i) for i in v]
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def scale_of(dep: dict[str, Any]) -> dict[str, Any]:
    """A Deployment's autoscaling/v1 Scale (registry/apps/deployment/storage scaleFromDeployment):
    status.selector is the label selector as a string."""
    meta = dep["metadata"]
    labels = dep["spec"].get("selector", {}).get("matchLabels", {})
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": dep["spec"].get("replicas", 0)},
        "status": {
            "replicas": dep.get("status", {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        },
    }


def hpa_from_v1(body: dict[str, Any]) -> dict[str, Any]:
    """autoscaling/v1 -> v2 as the API server converts (pkg/apis/autoscaling/v1
    conversion.go): targetCPUUtilizationPercentage becomes a cpu Utilization metric."""
    out = copy.deepcopy(body)
    out["apiVersion"] = "autoscaling/v2"
    spec = out.get("spec", {})
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": target},
                },
            }
        ]
    return out


def hpa_to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """autoscaling/v2 -> v1 (the same conversion.go): the cpu Utilization target and the
    current CPU utilisation; other metrics and behavior go to annotations there, dropped here."""
    spec, st = obj.get("spec", {}), obj.get("status", {})
    out_spec = {k: spec[k] for k in ("scaleTargetRef", "minReplicas", "maxReplicas") if k in spec}
    for m in spec.get("metrics", []):
        if m.get("type") == "Resource" and m["resource"]["name"] == "cpu":
            target = m["resource"]["target"].get("averageUtilization")
            if target is not None:
                out_spec["targetCPUUtilizationPercentage"] = target
    out_status = {
        k: st[k]
        for k in ("observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas")
        if k in st
    }
    out_status.setdefault("currentReplicas", 0)
    out_status.setdefault("desiredReplicas", 0)
    for m in st.get("currentMetrics") or []:
        if m.get("type") == "Resource" and m["resource"]["name"] == "cpu":
            current = m["resource"]["current"].get("averageUtilization")
            if current is not None:
                out_status["currentCPUUtilizationPercentage"] = current
    return {
        "kind": "HorizontalPodAutoscaler",
        "apiVersion": "autoscaling/v1",
        "metadata": obj["metadata"],
        "spec": out_spec,
        "status": out_status,
    }


def _reason(message: str) -> str:
    """A cause's reason from its field.ErrorType, which begins the message."""
    for start, reason in (
        ("Required value", "FieldValueRequired"),
        ("Unsupported value", "FieldValueNotSupported"),
        ("Duplicate value", "FieldValueDuplicate"),
        ("Forbidden", "FieldValueForbidden"),
    ):
        if message.startswith(start):
            return reason
    return "FieldValueInvalid"


class Handler(BaseHTTPRequestHandler):
    # Connections kept open between requests, as the API server's are (every answer but a
    # watch's has its Content-Length); HTTP/1.0's one connection and thread per request
    # cost the stand-in's tests more CPU than their stages did.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK wait
    cluster: Cluster
    token: str | None = None
    warnings: list[str] = []
    raw: bytes = b""

    def handle_one_request(self) -> None:
        """A request the stand-in cannot handle is answered 500 InternalError with a Status,
        as the API server's panic recovery does, never a dropped connection (kubectl: EOF)."""
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception as exc:  # noqa: BLE001 - any bug in a handler
            self.close_connection = True
            try:
                self._send(
                    500,
                    status(500, "InternalError", f"Internal error occurred: {exc!r}"[:500]),
                )
            except OSError:
                pass

    def parse_request(self) -> bool:
        """The body read whole before any answer: on a connection kept open, a body left
        unread (DELETE's options, a body refused with 401) would be read as the next request."""
        if not super().parse_request():
            return False
        self.request_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        if self.cluster.validate:
            schema.check(self.cluster, body)
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        # A warning each, as the API server's warning recorder writes them (code 299,
        # agent "-"); kubectl prints "Warning: <text>".
        for text in self.warnings if code < 400 else []:
            self.send_header("Warning", "299 - " + json.dumps(text))
        self.warnings = []
        self.end_headers()
        self.wfile.write(data)

    def _send_raw(self, code: int, content_type: str, data: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.token and self.headers.get("Authorization") != f"Bearer {self.token}":
            self._send(401, status(401, "Unauthorized", "Unauthorized"))
            return False
        return True

    def _body(self) -> dict[str, Any] | None:
        """The request's object from JSON, YAML or Kubernetes protobuf (protobuf.py); None
        once a 415 is sent for a protobuf body the stand-in cannot decode."""
        self.warnings = []
        raw = self.request_body or b"{}"
        self.raw = raw  # what field validation reads for duplicates (JSON only)
        if self.headers.get("Content-Type", "").startswith(protobuf.MEDIA_TYPE):
            try:
                return protobuf.decode(raw)
            except protobuf.Unsupported as exc:
                message = f"the stand-in cannot decode this protobuf body: {exc}"
                self._send(415, status(415, "UnsupportedMediaType", message))
                return None
        try:
            return json.loads(raw)
        except ValueError:
            return YAML(typ="safe", pure=True).load(raw.decode())

    def _route(self):
        url = urlsplit(self.path)
        return url.path, _PATH.match(url.path), {k: v[0] for k, v in parse_qs(url.query).items()}

    # --- GET --------------------------------------------------------------------------
    def do_GET(self) -> None:
        if not self._authorised():
            return
        c = self.cluster
        path, match, query = self._route()
        with c.lock:
            c.requests.append(("GET", path))
            c.on_request()
            if path == "/openapi/v2":
                return self._send_raw(200, openapi.MIME, openapi.v2())
            if path == "/openapi/v3":
                return self._send_raw(200, openapi.V3_MIME, openapi.v3_root())
            if path.removeprefix("/openapi/v3/") in openapi.V3_KINDS:
                gv = path.removeprefix("/openapi/v3/")
                return self._send_raw(200, openapi.V3_MIME, openapi.v3_document(gv))
            found = discovery.answer(c, path)
            if found is not None:
                return self._send(*found)
            if match and match["group"] == "metrics.k8s.io":
                return self._metrics(match, query)
            if not match or (match["res"] not in API and match["res"] not in LISTS):
                return self._send(
                    404, status(404, "NotFound", "the server could not find the requested resource")
                )
            res, ns, name = match["res"], match["ns"] or "", match["name"]
            if query.get("watch") in ("true", "1"):
                return self._watch(res, ns, query)
            if name:
                obj = self._get(res, ns, name)
                if obj is None:
                    return self._not_found(res, name)
                if match["sub"] == "scale" and res == "deployments":
                    return self._send(200, scale_of(obj))
                if res == "horizontalpodautoscalers" and match["ver"] == "v1":
                    return self._send(200, hpa_to_v1(obj))
                return self._send(200, obj)
            items = self._list(res, ns, query)
            kind = LISTS.get(res) or (API[res][0], API[res][1] + "List")
            if "as=Table" in self.headers.get("Accept", ""):
                return self._send(200, tables.table(res, items, query, c.epoch + c.now()))
            rv = str(time.time_ns() // 1000)
            body = {"kind": kind[1], "apiVersion": kind[0], "metadata": {"resourceVersion": rv}}
            return self._send(200, {**body, "items": items})

    def _get(self, res: str, ns: str, name: str) -> dict[str, Any] | None:
        c = self.cluster
        if res in LISTS:
            return next((o for o in self._list(res, ns, {}) if o["metadata"]["name"] == name), None)
        key = ("namespaces", "", name) if res == "namespaces" else (res, ns, name)
        obj = c.objects.get(key)
        if obj is not None and res == "namespaces" and name in c.terminating:
            obj = {**obj, "status": {"phase": "Terminating"}}
            obj["metadata"] = {
                **obj["metadata"],
                "deletionTimestamp": obj["metadata"]["creationTimestamp"],
            }
        return obj

    def _list(self, res: str, ns: str, query: dict[str, str]) -> list[dict[str, Any]]:
        c = self.cluster
        labels = query.get("labelSelector", "")
        field = query.get("fieldSelector", "")
        if res == "pods":
            items = c.pod_objects(ns, labels)
        elif res == "events":
            involved = field.removeprefix("involvedObject.name=") if field else None
            return [
                e
                for e in c.events
                if e["metadata"]["namespace"] == ns
                and (involved is None or e["involvedObject"]["name"] == involved)
            ]
        elif res == "nodes":
            items = [nodes.node_object(n) for n in c.nodes]
            items = [i for i in items if selector.matches(labels, i["metadata"]["labels"])]
        elif res == "replicasets":
            items = discovery.replicasets(c, ns)
        else:
            items = [
                self._get(res, ns, k[2])
                for k in c.objects
                if k[0] == res and (k[1] == ns or not ns or res == "namespaces")
            ]
        items.sort(key=lambda i: (i["metadata"].get("namespace", ""), i["metadata"]["name"]))
        return [i for i in items if selector.fields_match(field, i)]

    def _metrics(self, match, query: dict[str, str]) -> None:
        """metrics-server behind the aggregator: PodMetrics and NodeMetrics, listed (with
        label selectors) or by name (pkg/api/pod.go, node.go)."""
        c = self.cluster
        res = match["res"]
        if c.metrics == "absent":  # no APIService registered: the aggregator has no route
            return self._send(
                404, status(404, "NotFound", "the server could not find the requested resource")
            )
        if c.metrics == "starting":  # APIService registered, metrics-server not ready
            return self._send(
                503,
                status(
                    503,
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request "
                    f"(get {res}.metrics.k8s.io)",
                ),
            )
        labels = query.get("labelSelector", "")
        if res == "nodes":
            return self._node_metrics(match["name"], labels)
        ns = match["ns"] or ""
        items = c.pod_metrics(ns)
        # metrics-server filters by the pods' labels (pkg/api/pod.go: the selector is matched
        # against the pod lister's labels, which the PodMetrics copies).
        if labels:
            chosen = {p["metadata"]["name"] for p in c.pod_objects(ns, labels)}
            items = [i for i in items if i["metadata"]["name"] in chosen]
        if match["name"]:  # a named GET answers the PodMetrics itself, or 404
            found = [i for i in items if i["metadata"]["name"] == match["name"]]
            if not found:
                return self._send(
                    404,
                    status(
                        404,
                        "NotFound",
                        f'podmetrics.metrics.k8s.io "{match["name"]}" not found',
                        details={"name": match["name"], "group": "metrics.k8s.io", "kind": "pods"},
                    ),
                )
            kind = {"kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1"}
            return self._send(200, {**kind, **found[0]})
        body = {"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}}
        return self._send(200, {**body, "items": items})

    def _node_metrics(self, name: str | None, labels: str) -> None:
        """pkg/api/node.go: a list of the nodes matching the selector that have a usage; a
        named GET of a node the node lister lacks is its NotFound (`node "x"`), of one with
        no usage yet the metrics resource's (`nodemetrics.metrics.k8s.io "x"`)."""
        c = self.cluster
        items = metrics.node_metrics(c, "" if name else labels)
        if name:
            found = [i for i in items if i["metadata"]["name"] == name]
            if found:
                kind = {"kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1"}
                return self._send(200, {**kind, **found[0]})
            known = any(n.name == name for n in c.nodes)
            what = "nodemetrics.metrics.k8s.io" if known else "node"
            details = {"name": name, "kind": "nodes" if known else "node"}
            if known:
                details["group"] = "metrics.k8s.io"
            return self._send(
                404, status(404, "NotFound", f'{what} "{name}" not found', details=details)
            )
        body = {"kind": "NodeMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}}
        return self._send(200, {**body, "items": items})

    def _watch(self, res: str, ns: str, query: dict[str, str]) -> None:
        """A watch stream (apimachinery pkg/watch): one JSON event per change, ended after
        timeoutSeconds (or 5 s of wall time here), as the API server ends watches; clients
        re-list. Each round of it is a request for the cluster's pace (clock.py): the
        20 rounds a second only pace the stream, they decide no outcome."""
        c = self.cluster
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        seen: dict[str, str] = {}
        first = True
        end = time.monotonic() + min(float(query.get("timeoutSeconds", 5)), 5)
        while time.monotonic() < end:
            if not first:
                c.lock.release()
                time.sleep(0.05)
                c.lock.acquire()
                c.on_request()
            now = {o["metadata"]["name"]: o for o in self._list(res, ns, query)}
            events = [
                ("ADDED" if n not in seen else "MODIFIED", o)
                for n, o in now.items()
                if seen.get(n) != json.dumps(o, sort_keys=True)
            ]
            events += [("DELETED", json.loads(seen[n])) for n in seen if n not in now]
            try:
                for kind, obj in events:
                    if c.validate:
                        schema.check(c, obj)
                    self.wfile.write(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client has what it wanted
                break
            seen = {n: json.dumps(o, sort_keys=True) for n, o in now.items()}
            first = False
        self.close_connection = True

    def _not_found(self, res: str, name: str) -> None:
        self._send(
            404,
            status(
                404, "NotFound", f'{res} "{name}" not found', details={"name": name, "kind": res}
            ),
        )

    # --- writes -----------------------------------------------------------------------
    def _target(self, match, body_ns: str | None = None):
        res, ns, name = match["res"], match["ns"] or body_ns or "", match["name"]
        c = self.cluster
        if res == "namespaces":
            ns = ""
        elif ns and ("namespaces", "", ns) not in c.objects:
            self._send(404, status(404, "NotFound", f'namespaces "{ns}" not found'))
            return None
        elif ns in c.terminating:
            message = (
                f'{res} "{name}" is forbidden: unable to create new content in namespace {ns} '
                "because it is being terminated"
            )
            self._send(403, status(403, "Forbidden", message))
            return None
        return res, ns, name

    def do_POST(self) -> None:
        """Create (kubectl's client-side apply of a new object): an Update by its manager."""
        if not self._authorised():
            return
        c = self.cluster
        path, match, query = self._route()
        body = self._body()
        if body is None:
            return
        with c.lock:
            c.requests.append(("POST", path))
            c.directives.append(("POST", path, query.get("fieldValidation", "")))
            c.on_request()
            if not match or match["res"] not in API:
                return self._send(404, status(404, "NotFound", "no such resource"))
            target = self._target(match)
            if target is None:
                return
            res, ns, _ = target
            name = body["metadata"]["name"]
            if (res, ns, name) in c.objects:
                return self._send(
                    409, status(409, "AlreadyExists", f'{res} "{name}" already exists')
                )
            v1_hpa = res == "horizontalpodautoscalers" and match["ver"] == "v1"
            if self._undecodable(res, body):
                return
            version = match["ver"] or "v1"
            api_version = f"{match['group']}/{version}" if match["group"] else version
            body = self._strict(res, api_version, body, query)
            if body is None:
                return
            if v1_hpa:  # kubectl autoscale (v1.30) creates an autoscaling/v1 object
                body = hpa_from_v1(body)
            if self._refused(res, name, body):
                return
            fields = Fields()
            fields.update(query.get("fieldManager", "kubectl-create"), set(leaves(body)))
            obj = c.store(res, ns, name, copy.deepcopy(body), fields, query.get("dryRun") == "All")
            return self._send(201, hpa_to_v1(obj) if v1_hpa else obj)

    def do_PATCH(self) -> None:
        if not self._authorised():
            return
        c = self.cluster
        path, match, query = self._route()
        body = self._body()
        if body is None:
            return
        kind = self.headers.get("Content-Type", "").split(";")[0].strip()
        with c.lock:
            c.requests.append(("PATCH", self.path))
            c.directives.append(("PATCH", path, query.get("fieldValidation", "")))
            c.on_request()
            if not match or match["res"] not in API:
                return self._send(404, status(404, "NotFound", "no such resource"))
            target = self._target(match)
            if target is None:
                return
            res, ns, name = target
            manager = query.get("fieldManager", "")
            dry = query.get("dryRun") == "All"
            if match["sub"] == "scale" and res == "deployments":
                current = c.objects.get((res, ns, name))
                if current is None:
                    return self._not_found(res, name)
                return self._write_scale(ns, name, merge_patch(scale_of(current), body), manager)
            if kind == "application/apply-patch+yaml":
                if not manager:
                    return self._send(
                        400,
                        status(
                            400,
                            "BadRequest",
                            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                            "value: is required for apply patch",
                        ),
                    )
                undeclared = fv.not_declared(body, fv.definition(*API[res]))
                if undeclared:
                    return self._send(500, self._typed_patch_error(ns, name, res, undeclared))
                try:
                    # Validation sees the object as the apply would leave it.
                    if self._refused(res, name, body, quantities_only=True) or self._refused(
                        res, name, c.apply(res, ns, name, body, manager, True, True)
                    ):
                        return
                    if not dry:
                        c.applies.append((manager, path, body))
                    obj = c.apply(res, ns, name, body, manager, dry, query.get("force") == "true")
                except Conflict as exc:
                    return self._send(
                        409,
                        status(
                            409,
                            "Conflict",
                            str(exc),
                            details={"name": name, "kind": res, "causes": exc.causes},
                        ),
                    )
                return self._send(200, obj)
            if kind == "application/json-patch+json":
                return self._json_patch(res, ns, name, body, dry)
            if kind not in (
                "application/strategic-merge-patch+json",
                "application/merge-patch+json",
            ):
                return self._send(
                    415,
                    status(
                        415,
                        "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media "
                        "types include: application/merge-patch+json, "
                        "application/apply-patch+yaml, application/strategic-merge-patch+json",
                    ),
                )
            current = c.objects.get(
                ("namespaces", "", name) if res == "namespaces" else (res, ns, name)
            )
            if current is None:
                return self._not_found(res, name)
            obj = merge_patch(current, body)
            if self._undecodable(res, obj):
                return
            obj = self._strict_patch(res, body, obj, query)
            if obj is None or self._refused(res, name, obj):
                return
            fields = copy.deepcopy(c.fields[(res, ns, name)])
            known = fv.prune(body, fv.definition(*API[res]))
            fields.update(manager or "kubectl-patch", set(leaves(known)))
            return self._send(200, c.store(res, ns, name, obj, fields, dry))

    def _write_scale(self, ns: str, name: str, scale: dict[str, Any], manager: str) -> None:
        """A write through deployments/scale: only spec.replicas reaches the Deployment
        (registry/apps/deployment/storage ScaleREST.Update)."""
        c = self.cluster
        replicas = scale.get("spec", {}).get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            return self._invalid(
                "Scale.autoscaling",
                name,
                [
                    (
                        "spec.replicas",
                        f"Invalid value: {replicas}: must be greater than or equal to 0",
                    )
                ],
            )
        c.scale(ns, name, replicas, manager or "kubectl-scale")
        return self._send(200, scale_of(c.objects[("deployments", ns, name)]))

    def do_PUT(self) -> None:
        """Update: served for deployments/scale (kubectl scale's fallback, the HPA's way)."""
        if not self._authorised():
            return
        c = self.cluster
        path, match, query = self._route()
        body = self._body()
        if body is None:
            return
        with c.lock:
            c.requests.append(("PUT", path))
            c.on_request()
            if not match or match["res"] != "deployments" or match["sub"] != "scale":
                return self._send(
                    405, status(405, "MethodNotAllowed", "the server does not allow this method")
                )
            target = self._target(match)
            if target is None:
                return
            _, ns, name = target
            if ("deployments", ns, name) not in c.objects:
                return self._not_found("deployments", name)
            return self._write_scale(ns, name, body, query.get("fieldManager", ""))

    def _refused(
        self, res: str, name: str, obj: dict[str, Any], quantities_only: bool = False
    ) -> bool:
        """Answers 400 (an undecodable quantity) or 422 (field errors) as the API server
        does, and says whether it did."""
        kind = {
            "deployments": "Deployment.apps",
            "horizontalpodautoscalers": "HorizontalPodAutoscaler.autoscaling",
        }.get(res, API[res][1])
        if self._undecodable(res, obj):
            return True
        errors = [] if quantities_only else admission.invalid(res, obj)
        if errors:
            self._invalid(kind, name, errors)
            return True
        return False

    def _cannot_handle(self, res: str, problem: str) -> None:
        """400 as handlers/rest.go transformDecodeError words a decoding failure."""
        short = API[res][1]
        version = API[res][0].rpartition("/")[2]
        message = f'{short} in version "{version}" cannot be handled as a {short}: {problem}'
        self._send(400, status(400, "BadRequest", message))

    def _undecodable(self, res: str, obj: dict[str, Any]) -> bool:
        """A quantity that does not parse fails the decoding (before any strict error)."""
        if admission.bad_quantity(obj) is None:
            return False
        regex = admission.QUANTITY
        self._cannot_handle(res, f"quantities must match the regular expression '{regex}'")
        return True

    def _strict(
        self, res: str, api_version: str, body: dict[str, Any], query: dict[str, str]
    ) -> dict[str, Any] | None:
        """Create/update field validation (fieldvalidation.py): refused under Strict,
        warned under Warn; the body as the typed decoder keeps it, or None when refused."""
        direct = fv.directive(query)
        name = fv.definition(api_version, API[res][1])
        if direct != fv.IGNORE:
            doc = fv.parse(self.raw)
            problems = fv.typed(doc, name) if doc is not None else fv.unknown(body, name)
            if problems and direct == fv.STRICT:
                self._cannot_handle(res, "strict decoding error: " + ", ".join(problems))
                return None
            self.warnings = problems
        return fv.prune(body, name)

    def _strict_patch(
        self, res: str, patch: Any, obj: dict[str, Any], query: dict[str, str]
    ) -> dict[str, Any] | None:
        """Merge/strategic merge patch field validation (handlers/patch.go): the patch's
        duplicates, then the patched object's unknown fields; Strict answers 422 with the
        patch as Go prints the decoded map."""
        direct = fv.directive(query)
        name = fv.definition(*API[res])
        if direct != fv.IGNORE:
            doc = fv.parse(self.raw)
            problems = (fv.duplicates(doc) if doc is not None else []) + fv.unknown(obj, name)
            if problems and direct == fv.STRICT:
                detail = "strict decoding error: " + ", ".join(problems)
                value = fv.go_quote(fv.go_value(patch))
                self._invalid("", "", [("patch", f"Invalid value: {value}: {detail}")])
                return None
            self.warnings = problems
        return fv.prune(obj, name)

    def _typed_patch_error(self, ns: str, name: str, res: str, undeclared: list[str]):
        """structuredmerge.go's plain error, which the API server answers 500 with no reason
        (responsewriters ErrorToAPIStatus); several are listed as ValidationErrors does."""
        group_version, kind = API[res]
        group, _, version = group_version.rpartition("/")
        said = undeclared[0] if len(undeclared) == 1 else "errors:\n  " + "\n  ".join(undeclared)
        message = (
            f"failed to create typed patch object ({ns}/{name}; {group}/{version}, "
            f"Kind={kind}): {said}"
        )
        body = status(500, "", message)
        del body["reason"]
        return body

    def _invalid(self, kind: str, name: str, causes: list[tuple[str, str]]) -> None:
        """422 Invalid as apimachinery errors.NewInvalid words it: `Kind.group "name" is
        invalid: field: Invalid value: ...`, causes joined by ", " inside [...] when several."""
        group_kind, group = kind.split(".", 1) if "." in kind else (kind, "")
        texts = [f"{f}: {m}" for f, m in causes]
        joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
        details = {
            "name": name,
            "group": group,
            "kind": group_kind,
            "causes": [{"reason": _reason(m), "message": m, "field": f} for f, m in causes],
        }
        details = {k: v for k, v in details.items() if v}  # Go's omitempty
        return self._send(
            422, status(422, "Invalid", f'{kind} "{name}" is invalid: {joined}', details=details)
        )

    def _json_patch(self, res: str, ns: str, name: str, ops: list, dry: bool) -> None:
        """RFC 6902 JSON patch, as kubectl sends to migrate client-side-apply ownership to
        server-side apply (k8s.io/client-go/util/csaupgrade): test, add, replace, remove."""
        c = self.cluster
        key = ("namespaces", "", name) if res == "namespaces" else (res, ns, name)
        if key not in c.objects:
            return self._not_found(res, name)
        obj = copy.deepcopy(c.objects[key])
        for op in ops:
            *parents, last = [
                p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]
            ]
            node = obj
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            if op["op"] == "test" and node.get(last) != op["value"]:
                return self._send(422, status(422, "Invalid", f"the test at {op['path']} failed"))
            if op["op"] in ("add", "replace"):
                node[last] = op["value"]
            elif op["op"] == "remove":
                node.pop(last, None)
        fields = Fields.from_managed(obj["metadata"].get("managedFields", []))
        return self._send(200, c.store(res, ns, name, obj, fields, dry))

    def do_DELETE(self) -> None:
        if not self._authorised():
            return
        c = self.cluster
        path, match, _ = self._route()
        with c.lock:
            c.requests.append(("DELETE", path))
            c.on_request()
            if not match:
                return self._send(404, status(404, "NotFound", "no such resource"))
            res, ns, name = match["res"], match["ns"] or "", match["name"]
            key = ("namespaces", "", name) if res == "namespaces" else (res, ns, name)
            if key not in c.objects or (res == "namespaces" and name in c.terminating):
                return self._not_found(res, name)
            deleted = c.objects[key]
            if res == "namespaces":
                # The namespace controller deletes the content, then the namespace
                # (pkg/controller/namespace); here both after two more requests.
                c.terminating[name] = 2
                return self._send(200, self._get(res, "", name))
            c.objects.pop(key)
            c.fields.pop(key, None)
            if res == "horizontalpodautoscalers":
                c.autoscalers.pop((ns, name), None)
            if res == "deployments":
                c.pods.pop(f"{ns}/{name}", None)
                c.replica_sets.pop(f"{ns}/{name}", None)  # the garbage collector's work
            # As the real API: services and the others answer with a Success Status
            # (registry/core/service/storage returns the object; apps returns Status).
            if res in ("services", "secrets"):
                return self._send(200, deleted)
            return self._send(
                200,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {
                        "name": name,
                        "group": API[res][0].rpartition("/")[0],
                        "kind": res,
                        "uid": deleted["metadata"]["uid"],
                    },
                },
            )
