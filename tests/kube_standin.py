"""A STAND-IN for the Kubernetes API server, for testing our client code only.

No kube-apiserver can run on this machine (none is packaged in the registries it reaches;
see ../shared/fixtures/README.md), and the lab has no kubelet. This small HTTP server
answers the requests gourmetops.kube makes with responses shaped like the real API's
(kinds, apiVersions, metadata, status fields, `Status` objects for errors, the metrics API),
and imitates just enough of the control plane to exercise our logic:

- server-side apply (`application/apply-patch+yaml`) with per-field-manager ownership of
  top-level spec fields: a field a manager stops applying is removed unless another manager
  applied it (what makes the HPA handover matter), `dryRun=All` stores nothing;
- a Deployment "controller" whose pods go Pending -> Running -> Ready over a few polls
  (or stay in ErrImagePull for an image whose name contains "unpullable", with events);
- an HPA "controller" that keeps replicas within [min, max];
- namespace deletion that passes through Terminating;
- a metrics API that can be switched off (503), as while metrics-server starts.

What it cannot tell us: anything about a real cluster's behaviour beyond this. It stands in
for the API server in tests/test_kube_stage.py and nowhere else.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API = {
    "namespaces": ("v1", "Namespace"),
    "services": ("v1", "Service"),
    "deployments": ("apps/v1", "Deployment"),
    "horizontalpodautoscalers": ("autoscaling/v2", "HorizontalPodAutoscaler"),
}
_PATH = re.compile(
    r"^/(?:api/v1|apis/apps/v1|apis/autoscaling/v2)"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>[a-z]+)(?:/(?P<name>[^/]+))?(?P<sub>/status)?$"
)
_METRICS = re.compile(r"^/apis/metrics\.k8s\.io/v1beta1/namespaces/(?P<ns>[^/]+)/pods$")
_NS_ONLY = re.compile(r"^/api/v1/namespaces/(?P<name>[^/]+)$")
READY_AFTER = 0.6  # seconds from pod creation to Ready (a few of the client's polls)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Cluster:
    """The stand-in's state; tests can reach in (e.g. `metrics_ready`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (res, ns, name)
        self.applied: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}  # by manager
        self.pods: dict[str, list[dict[str, Any]]] = {}  # deployment key -> pods
        self.terminating: dict[str, int] = {}  # namespace -> polls left
        self.metrics_ready = True
        self.requests: list[tuple[str, str]] = []
        self.applies: list[tuple[str, str, dict[str, Any]]] = []  # (manager, path, body)

    # --- apply ---------------------------------------------------------------------------
    def apply(self, res: str, ns: str, name: str, body: dict, manager: str, dry: bool) -> dict:
        key = (res, ns, name)
        per_manager = dict(self.applied.get(key, {}))
        per_manager.pop(manager, None)  # the manager applying now wins shared fields
        per_manager[manager] = body
        spec: dict[str, Any] = {}
        # Later managers' values win for shared fields, as with force=True.
        for config in per_manager.values():
            spec.update(config.get("spec", {}))
        current = self.objects.get(key)
        obj = {
            "apiVersion": API[res][0],
            "kind": API[res][1],
            "metadata": {
                "name": name,
                "uid": current["metadata"]["uid"] if current else str(uuid.uuid4()),
                "resourceVersion": str(int(time.time() * 1000)),
                "generation": (current["metadata"].get("generation", 0) if current else 0) + 1,
                "creationTimestamp": current["metadata"]["creationTimestamp"]
                if current
                else _now(),
                "managedFields": [
                    {"manager": m, "operation": "Apply", "apiVersion": API[res][0]}
                    for m in per_manager
                ],
            },
        }
        if ns:
            obj["metadata"]["namespace"] = ns
        if res != "namespaces":
            obj["spec"] = spec
        if res == "namespaces":
            obj["status"] = {"phase": "Active"}
        if res == "services":
            spec.setdefault("clusterIP", "10.254.233.34")
            obj["status"] = {"loadBalancer": {}}
        if res == "deployments":
            spec.setdefault("replicas", 1)  # the API default when nobody sets it
            obj["status"] = {}
        if res == "horizontalpodautoscalers":
            obj["status"] = {"currentReplicas": 0, "desiredReplicas": 0}
        if dry:
            return obj
        self.objects[key] = obj
        self.applied[key] = per_manager
        return obj

    # --- the controllers, run on every read -----------------------------------------------
    def reconcile(self) -> None:
        now = time.monotonic()
        for (res, ns, _name), hpa in list(self.objects.items()):
            if res != "horizontalpodautoscalers":
                continue
            dep = self.objects.get(("deployments", ns, hpa["spec"]["scaleTargetRef"]["name"]))
            if dep is None:
                continue
            lo, hi = hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"]
            wanted = min(max(dep["spec"]["replicas"], lo), hi)
            if wanted != dep["spec"]["replicas"]:
                # The HPA controller writes through the scale subresource and so becomes an
                # owner of spec.replicas.
                managers = self.applied.setdefault(("deployments", ns, dep["metadata"]["name"]), {})
                managers.pop("kube-controller-manager", None)
                managers["kube-controller-manager"] = {"spec": {"replicas": wanted}}
                dep["spec"]["replicas"] = wanted
            hpa["status"] = {
                "currentReplicas": dep["spec"]["replicas"],
                "desiredReplicas": dep["spec"]["replicas"],
                "currentMetrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "current": {"averageUtilization": 12}},
                    }
                ]
                if self.metrics_ready
                else None,
            }
        for (res, ns, name), dep in list(self.objects.items()):
            if res != "deployments":
                continue
            key = f"{ns}/{name}"
            image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
            pods = [p for p in self.pods.get(key, []) if p["image"] == image]
            want = dep["spec"]["replicas"]
            while len(pods) < want:
                pods.append({"name": f"{name}-{uuid.uuid4().hex[:5]}", "born": now, "image": image})
            pods = pods[:want]
            self.pods[key] = pods
            ready = sum(
                1 for p in pods if now - p["born"] >= READY_AFTER and "unpullable" not in image
            )
            dep["status"] = {
                "observedGeneration": dep["metadata"]["generation"],
                "replicas": len(pods),
                "updatedReplicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
            }
        for ns, left in list(self.terminating.items()):
            if left <= 0:
                del self.terminating[ns]
                self.objects.pop(("namespaces", "", ns), None)
            else:
                self.terminating[ns] = left - 1

    def pod_objects(self, ns: str, selector: dict[str, str]) -> list[dict[str, Any]]:
        now = time.monotonic()
        out = []
        for (res, dns, name), dep in self.objects.items():
            if res != "deployments" or dns != ns:
                continue
            labels = dep["spec"]["template"]["metadata"]["labels"]
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            container = dep["spec"]["template"]["spec"]["containers"][0]
            for pod in self.pods.get(f"{ns}/{name}", []):
                age = now - pod["born"]
                unpullable = "unpullable" in pod["image"]
                running = age >= READY_AFTER / 3 and not unpullable
                ready = age >= READY_AFTER and not unpullable
                waiting = "ErrImagePull" if unpullable else "ContainerCreating"
                state = (
                    {"running": {"startedAt": _now()}}
                    if running
                    else {"waiting": {"reason": waiting}}
                )
                out.append(
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": pod["name"], "namespace": ns, "labels": labels},
                        "spec": {
                            "containers": [{"name": container["name"], "image": pod["image"]}],
                            "nodeName": "node2",
                        },
                        "status": {
                            "phase": "Running" if running else "Pending",
                            "containerStatuses": [
                                {
                                    "name": container["name"],
                                    "image": pod["image"],
                                    "imageID": "",
                                    "ready": ready,
                                    "restartCount": 0,
                                    "state": state,
                                }
                            ],
                        },
                    }
                )
        return out


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class Handler(BaseHTTPRequestHandler):
    cluster: Cluster

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self, res: str, name: str) -> None:
        self._send(404, _status(404, "NotFound", f'{res} "{name}" not found'))

    def _route(self) -> tuple[re.Match | None, dict[str, list[str]]]:
        url = urlsplit(self.path)
        return _PATH.match(url.path), parse_qs(url.query)

    def do_GET(self) -> None:
        c = self.cluster
        url = urlsplit(self.path)
        with c.lock:
            c.requests.append(("GET", url.path))
            c.reconcile()
            if m := _METRICS.match(url.path):
                if not c.metrics_ready:
                    return self._send(
                        503,
                        _status(
                            503,
                            "ServiceUnavailable",
                            "the server is currently unable to "
                            "handle the request (get pods.metrics.k8s.io)",
                        ),
                    )
                pods = c.pod_objects(m["ns"], {})
                return self._send(
                    200,
                    {
                        "kind": "PodMetricsList",
                        "apiVersion": "metrics.k8s.io/v1beta1",
                        "metadata": {},
                        "items": [
                            {
                                "metadata": {"name": p["metadata"]["name"], "namespace": m["ns"]},
                                "timestamp": _now(),
                                "window": "10.5s",
                                "containers": [
                                    {
                                        "name": p["spec"]["containers"][0]["name"],
                                        "usage": {"cpu": "153m", "memory": "211Mi"},
                                    }
                                ],
                            }
                            for p in pods
                            if p["status"]["phase"] == "Running"
                        ],
                    },
                )
            match, query = self._route()
            if not match:
                return self._send(
                    404,
                    _status(404, "NotFound", "the server could not find the requested resource"),
                )
            res, ns, name = match["res"], match["ns"] or "", match["name"]
            if res == "pods":
                selector = dict(
                    part.split("=", 1)
                    for part in query.get("labelSelector", [""])[0].split(",")
                    if part
                )
                items = c.pod_objects(ns, selector)
                return self._send(
                    200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
                )
            if res == "events":
                field = query.get("fieldSelector", [""])[0]
                pod = field.removeprefix("involvedObject.name=")
                items = []
                for p in c.pod_objects(ns, {}):
                    if p["metadata"]["name"] != pod:
                        continue
                    image = p["spec"]["containers"][0]["image"]
                    if "unpullable" in image:
                        items.append(
                            {
                                "apiVersion": "v1",
                                "kind": "Event",
                                "metadata": {
                                    "name": f"{pod}.1",
                                    "namespace": ns,
                                    "creationTimestamp": _now(),
                                },
                                "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns},
                                "reason": "Failed",
                                "message": f'Failed to pull image "{image}": manifest unknown',
                                "type": "Warning",
                                "lastTimestamp": _now(),
                            }
                        )
                return self._send(
                    200, {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": items}
                )
            if res == "namespaces" and name:
                key = ("namespaces", "", name)
            else:
                key = (res, ns, name)
            obj = c.objects.get(key)
            if obj is None:
                return self._not_found(res, name)
            if res == "namespaces" and name in c.terminating:
                obj = {**obj, "status": {"phase": "Terminating"}}
            return self._send(200, obj)

    def do_PATCH(self) -> None:
        c = self.cluster
        match, query = self._route()
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        with c.lock:
            c.requests.append(("PATCH", self.path))
            if not match or match["res"] not in API:
                return self._send(404, _status(404, "NotFound", "no such resource"))
            if self.headers.get("Content-Type") != "application/apply-patch+yaml":
                return self._send(415, _status(415, "UnsupportedMediaType", "apply only"))
            manager = query.get("fieldManager", [""])[0]
            if not manager:
                return self._send(
                    400, _status(400, "BadRequest", "fieldManager is required for apply")
                )
            res, ns, name = match["res"], match["ns"] or "", match["name"]
            if ns and ("namespaces", "", ns) not in c.objects:
                return self._send(404, _status(404, "NotFound", f'namespaces "{ns}" not found'))
            if ns and ns in c.terminating:
                return self._send(403, _status(403, "Forbidden", f"namespace {ns} is terminating"))
            dry = query.get("dryRun", [""])[0] == "All"
            if not dry:
                c.applies.append((manager, urlsplit(self.path).path, body))
            obj = c.apply(res, ns if res != "namespaces" else "", name, body, manager, dry)
            return self._send(200, obj)

    def do_DELETE(self) -> None:
        c = self.cluster
        match, _ = self._route()
        with c.lock:
            c.requests.append(("DELETE", self.path))
            if not match:
                return self._send(404, _status(404, "NotFound", "no such resource"))
            res, ns, name = match["res"], match["ns"] or "", match["name"]
            key = ("namespaces", "", name) if res == "namespaces" else (res, ns, name)
            if key not in c.objects or (res == "namespaces" and name in c.terminating):
                return self._not_found(res, name)
            deleted = c.objects[key]
            if res == "namespaces":
                for k in [k for k in c.objects if k[1] == name]:
                    c.objects.pop(k)
                    c.applied.pop(k, None)
                c.terminating[name] = 2
                c.applied.pop(key, None)
            else:
                c.objects.pop(key)
                c.applied.pop(key, None)
                c.pods.pop(f"{ns}/{name}", None)
            # As the real API: services and namespaces answer with the object (a namespace
            # now Terminating), the others with a Success Status.
            if res == "namespaces":
                return self._send(200, {**deleted, "status": {"phase": "Terminating"}})
            if res == "services":
                return self._send(200, deleted)
            return self._send(
                200,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {"name": name, "kind": res},
                },
            )


def serve() -> tuple[ThreadingHTTPServer, Cluster]:
    """Start on a free loopback port; returns the server (its .server_address) and state."""
    cluster = Cluster()
    handler = type("BoundHandler", (Handler,), {"cluster": cluster})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, cluster
