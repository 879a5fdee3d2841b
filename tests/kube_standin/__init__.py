"""A STAND-IN for the Kubernetes v1.30 API server, for testing our client code (and kubectl
against it) only.

No kube-apiserver can run on this machine (none is packaged in the registries it reaches;
see the offline mirror's README.md), and the lab has no kubelet. This small HTTP(S) server
answers the requests gourmetops.kube and kubectl make with the real API's shapes, each
answer checked against the v1.30 OpenAPI schema (schema.py), and imitates the control plane
where the project reads or writes, each behaviour naming the source it follows:

- admission.py: quantity canonicalisation, the defaults the API server fills in, and the
  field errors it answers 422 Invalid (names, ports, replicas, selector, HPA bounds);
- fieldvalidation.py: server-side field validation (`fieldValidation` Strict/Warn/Ignore)
  for unknown and duplicate fields;
- ssa.py: server-side apply field ownership, 409 Conflict unless force=true;
- cluster.py, rollout.py: generation/observedGeneration, the deployment controller
  (ReplicaSets by template hash with their revision, RollingUpdate in maxSurge/
  maxUnavailable steps, scaling events, ScalingReplicaSet events, old pods terminating,
  Available/Progressing/ProgressDeadlineExceeded), a ReplicaSet controller, kubelet
  events, readiness from the readinessProbe as the kubelet's prober runs it, and modelled
  CPU from `load_m` shared among ready pods;
- nodes.py, scheduler.py: the nodes of cluster.yaml's model with the roles and taints
  kubespray gives them, and a scheduler honouring taints and CPU requests (FailedScheduling);
- metrics.py: metrics-server (15 s scrapes, a usage only from two points; nanocores, Ki, a
  container each, NodeMetrics modelled from the pods, 503 while starting, 404 when absent);
- hpa.py, replicas.py, behavior.py: the HPA controller (15 s sync, the replica calculator
  with its 0.1 tolerance and start-up/missing-metric rules, scale-up policies, 300 s
  scale-down stabilisation, its conditions);
- discovery.py, tables.py, openapi.py: what kubectl needs (discovery, nodes, ReplicaSets,
  Table output, /openapi/v2 and /openapi/v3);
- server.py: REST paths, Status errors, watch streams, optional bearer token.

The controllers run on modelled time that moves only at defined points (clock.py): when the
code under test sleeps on a ModelClock, when a test calls `advance()`, or by a fixed step per
request; so tests see minutes of HPA behaviour at once, in the same order on any machine.
What it cannot tell us: anything about a real cluster beyond this; README.md lists the
differences that remain.
"""

from __future__ import annotations

import ssl
import threading
from http.server import ThreadingHTTPServer

from gourmetops.cluster import Cluster as Model
from tests.kube_standin.clock import ModelClock, Simulated, Wall
from tests.kube_standin.cluster import Cluster
from tests.kube_standin.server import Handler

__all__ = ["Cluster", "ModelClock", "serve"]


def serve(
    step: float = 0.0,
    speed: float | None = None,
    validate: bool = True,
    token: str | None = None,
    tls: tuple[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    model: Model | None = None,
) -> tuple[ThreadingHTTPServer, Cluster]:
    """Start on a free loopback port; returns the server (its .server_address) and state.
    Modelled time moves `step` seconds a request, or with `speed` follows the wall clock
    that many times faster (clock.py). `tls` is (certificate, key) files; `token` a bearer
    token every request must carry; `model` the cluster whose nodes it has (default:
    cluster.yaml's)."""
    cluster = Cluster(Wall(speed) if speed else Simulated(step), model)
    cluster.validate = validate
    handler = type("BoundHandler", (Handler,), {"cluster": cluster, "token": token})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, cluster
