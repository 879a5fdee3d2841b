"""The stand-in's state and its control plane: the apply path (admission + field ownership),
the deployment controller, the scheduler and kubelet (pods, events), metrics-server and the
HPA controller. The controllers run on modelled seconds that move only at defined points
(clock.py), so tests see 15 s HPA syncs and a 300 s stabilisation window without waiting
for them, in the same order on any machine."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from gourmetops.cluster import Cluster as Model
from tests.kube_standin import admission, hpa, nodes, replicas, rollout, selector
from tests.kube_standin.clock import STEP, Pace, Simulated
from tests.kube_standin.metrics import POD_MEMORY_KI, SIDECAR_MEMORY_KI, MetricsServer
from tests.kube_standin.scheduler import cpu_request, schedule
from tests.kube_standin.ssa import Fields

API = {
    "namespaces": ("v1", "Namespace"),
    "services": ("v1", "Service"),
    "secrets": ("v1", "Secret"),
    "deployments": ("apps/v1", "Deployment"),
    "horizontalpodautoscalers": ("autoscaling/v2", "HorizontalPodAutoscaler"),
}
CONTROLLER_DELAY = STEP  # modelled s from a Deployment update to the controller's sync
# pkg/controller/deployment/util/deployment_util.go RevisionAnnotation
REVISION = "deployment.kubernetes.io/revision"
TERMINATION_GRACE = 30.0  # modelled seconds (PodSpec.terminationGracePeriodSeconds default)
# Modelled seconds from scheduling to a running container: a constant of ours (an image
# already cached on the node, imagePullPolicy Always answered by the local registry).
CONTAINER_START = 1.0


def stamp(seconds: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def micro(seconds: float | None = None) -> str:
    """A MicroTime (events.k8s.io eventTime)."""
    now = time.time() if seconds is None else seconds
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


class Cluster:
    """The stand-in's state; tests can reach in (`metrics`, `load_m`, `advance()`, ...)."""

    def __init__(self, pace: Pace | None = None, model: Model | None = None) -> None:
        self.lock = threading.RLock()
        self.pace = pace or Simulated()
        # The Kubernetes nodes of cluster.yaml's model (default: the project's loader), with
        # the roles and taints kubespray gives them (nodes.py).
        self.nodes = nodes.from_model(model)
        self.t = 0.0  # modelled seconds since start
        self.epoch = time.time()  # wall time of modelled 0, for timestamps
        # Modelled seconds from a running container to Ready; None: from the container's
        # readinessProbe, as the kubelet's prober runs it (_probe_ready).
        self.ready_after: float | None = None
        # The HPA controller's first sync of a new HPA, modelled seconds after its creation:
        # at once through the informer; later when kube-controller-manager is busy or
        # restarting; math.inf when it does not run.
        self.hpa_first_sync = 1.0
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (res, ns, name)
        self.fields: dict[tuple[str, str, str], Fields] = {}
        self.pods: dict[str, list[dict[str, Any]]] = {}  # deployment key -> pods
        self.events: list[dict[str, Any]] = []
        self.terminating: dict[str, int] = {}  # namespace -> polls left
        self.metrics_server = MetricsServer()
        self.metrics = "ready"  # or "starting" (503, as while it starts) or "absent" (404)
        self.sidecar = False  # a second container in each pod, as a mesh injects
        self.load_m = 0.0  # CPU demand (millicores) the traffic puts on the Deployment
        self.idle_m = 36.0  # each pod's CPU with no traffic
        self.requests: list[tuple[str, str]] = []
        self.applies: list[tuple[str, str, dict[str, Any]]] = []  # (manager, path, body)
        # (method, path, fieldValidation as sent or "") of every create and patch
        self.directives: list[tuple[str, str, str]] = []
        self.autoscalers: dict[tuple[str, str], hpa.Autoscaler] = {}
        self.progress: dict[str, tuple[str, float, int, int]] = {}
        # deployment key -> its ReplicaSets by name (size, revision, template), old ones
        # kept at 0 pods as the deployment controller leaves them for `rollout history`.
        self.replica_sets: dict[str, dict[str, rollout.ReplicaSet]] = {}
        # When an existing Deployment's spec last changed through an update of the object
        # (modelled s): the deployment controller acts on it CONTROLLER_DELAY later.
        self.spec_changed: dict[str, float] = {}
        self.validated: list[str] = []  # kinds checked against the OpenAPI schema
        self.invalid: list[str] = []
        self.validate = False  # check every answer against the v1.30 OpenAPI schema

    def now(self) -> float:
        """Modelled seconds since start."""
        return self.t

    def advance(self, seconds: float) -> None:
        """Modelled time moves on by `seconds`, the controllers running every STEP."""
        with self.lock:
            self._run_to(self.t + seconds)

    def on_request(self) -> None:
        """A request (or a watch round) arrives: time moves as the pace says, then the
        controllers look at the state the request will read or change."""
        self._run_to(self.pace.target(self.t))
        self.reconcile()

    def _run_to(self, target: float) -> None:
        while self.t < target:
            self.t = min(self.t + STEP, target)
            self.reconcile()

    def stamp(self, t: float | None = None) -> str:
        """A timestamp at modelled time `t` (default now)."""
        return stamp(self.epoch + (self.t if t is None else t))

    # --- writes ---------------------------------------------------------------------------
    def apply(
        self, res: str, ns: str, name: str, body: dict, manager: str, dry: bool, force: bool
    ) -> dict:
        """Server-side apply (raises ssa.Conflict); returns the object as stored."""
        key = (res, ns, name)
        current = self.objects.get(key)
        fields = copy.deepcopy(self.fields.get(key, Fields()))
        obj = copy.deepcopy(current) if current else {"metadata": {}}
        obj.pop("status", None)
        fields.apply(obj, body, manager, force, API[res][0])
        return self.store(res, ns, name, obj, fields, dry)

    def store(self, res: str, ns: str, name: str, obj: dict, fields: Fields, dry: bool) -> dict:
        key = (res, ns, name)
        current = self.objects.get(key)
        obj["apiVersion"], obj["kind"] = API[res]
        meta = obj["metadata"]
        meta["name"] = name
        if ns:
            meta["namespace"] = ns
        admission.default(res, obj, name)
        if res == "secrets" and "stringData" in obj:  # core/v1 Secret: stringData is write-only
            import base64

            data = obj.setdefault("data", {})
            for k, v in obj.pop("stringData").items():
                data[k] = base64.b64encode(v.encode()).decode()
        old_meta = (current or {}).get("metadata", {})
        meta["uid"] = old_meta.get("uid", str(uuid.uuid4()))
        meta["creationTimestamp"] = old_meta.get("creationTimestamp", self.stamp())
        changed = current is None or _body(current) != _body(obj)
        meta["resourceVersion"] = (
            str(time.time_ns() // 1000) if changed else old_meta["resourceVersion"]
        )
        if res == "deployments":
            # metadata.generation: bumped on spec changes only (apps/v1 strategy's
            # PrepareForUpdate). v1.30's HPA strategy sets none (added behind a gate in 2026).
            same = current is not None and current.get("spec") == obj.get("spec")
            meta["generation"] = old_meta.get("generation", 0) + (0 if same else 1)
        meta["managedFields"] = fields.managed_fields(API[res][0], self.stamp())
        obj["status"] = copy.deepcopy((current or {}).get("status")) or _fresh_status(res)
        if res == "secrets":
            del obj["status"]  # a Secret has none
        if dry:
            return obj
        if current is None and res == "deployments":
            self.progress[f"{ns}/{name}"] = ("", self.now(), 0, 0)
        elif res == "deployments" and meta["generation"] != old_meta.get("generation"):
            self.spec_changed[f"{ns}/{name}"] = self.now()
        self.objects[key] = obj
        self.fields[key] = fields
        return obj

    def scale(self, ns: str, name: str, replicas: int, manager: str) -> None:
        """A write through the deployments/scale subresource (the HPA controller's way)."""
        key = ("deployments", ns, name)
        dep = self.objects[key]
        fields = self.fields[key]
        fields.update(manager, {("spec", "replicas")}, subresource="scale")
        obj = copy.deepcopy(dep)
        obj["spec"]["replicas"] = replicas
        self.store("deployments", ns, name, obj, fields, False)
        self.spec_changed.pop(f"{ns}/{name}", None)  # not modelled as lagging (see _deployment)

    # --- the controllers, run on every request --------------------------------------------
    def reconcile(self) -> None:
        self.metrics_server.run(self)
        for (res, ns, name), obj in list(self.objects.items()):
            if res == "horizontalpodautoscalers":
                auto = self.autoscalers.setdefault(
                    (ns, name), hpa.Autoscaler(self.now() + self.hpa_first_sync)
                )
                auto.sync(self, obj)
        for (res, ns, name), dep in list(self.objects.items()):
            if res == "deployments":
                self._deployment(ns, name, dep)
        for ns, left in list(self.terminating.items()):
            if left <= 0:
                del self.terminating[ns]
                for key in [k for k in self.objects if k[1] == ns or k == ("namespaces", "", ns)]:
                    self.objects.pop(key)
                    self.fields.pop(key, None)
                self.pods = {k: v for k, v in self.pods.items() if not k.startswith(f"{ns}/")}
                self.replica_sets = {
                    k: v for k, v in self.replica_sets.items() if not k.startswith(f"{ns}/")
                }
                self.autoscalers = {k: v for k, v in self.autoscalers.items() if k[0] != ns}
                self.events = [e for e in self.events if e["metadata"]["namespace"] != ns]
            else:
                self.terminating[ns] = left - 1

    def _deployment(self, ns: str, name: str, dep: dict[str, Any]) -> None:
        """pkg/controller/deployment: ReplicaSets per pod template (named by its hash),
        sized step by step as v1.30's RollingUpdate does (rollout.py), the ReplicaSet
        controller making or deleting their pods (graceful, not at once); status and
        conditions as sync.go and progress.go set them."""
        # The controller is asynchronous: a spec change reaches it through the informer and
        # its work queue (pkg/controller/deployment syncDeployment), so for a moment the
        # stored status is the one from before the change, observedGeneration behind
        # metadata.generation. Modelled for updates of an existing Deployment's object
        # (CONTROLLER_DELAY); creations and scale-subresource writes are still seen at once.
        observed = (dep.get("status") or {}).get("observedGeneration", 0)
        changed = self.spec_changed.get(f"{ns}/{name}", -math.inf)
        if observed < dep["metadata"]["generation"] and self.now() - changed < CONTROLLER_DELAY:
            return
        template = dep["spec"]["template"]
        h = hashlib.sha1(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        rs, key = f"{name}-{h}", f"{ns}/{name}"
        sets = self.replica_sets.setdefault(key, {})
        pods = self.pods.setdefault(key, [])
        pods[:] = [p for p in pods if not p["deleting"] or self.now() < p["deleting"]]
        sync = rollout.Sync(
            sets,
            dep,
            rs,
            available=lambda n: sum(1 for p in pods if p["rs"] == n and self.serving(p)),
            pods_left=lambda n: sum(1 for p in pods if p["rs"] == n),
            record=lambda message: self._scaling_event(ns, dep, message),
        )
        for _ in range(rollout.MAX_SYNCS):  # each size change resyncs the Deployment
            resync = sync.run()
            self._replica_set_pods(ns, sets.values(), pods)
            if not resync:
                break
        if rs in sets:  # SetDeploymentRevision
            dep["metadata"].setdefault("annotations", {})[REVISION] = str(sets[rs].revision)
        self._deployment_status(key, rs, dep, pods, sum(r.replicas for r in sets.values()))

    def _replica_set_pods(
        self, ns: str, sets: Iterable[rollout.ReplicaSet], pods: list[dict[str, Any]]
    ) -> None:
        """pkg/controller/replicaset manageReplicas: each ReplicaSet's pods made up to its
        spec.replicas, or the extra ones deleted, the least useful first
        (controller_utils.go ActivePodsWithRanks: unscheduled, not running, not ready, ready
        for less time, newer; its spreading and deletion-cost ranks are not modelled)."""
        model = self.now()
        for rs in sets:
            mine = [p for p in pods if p["rs"] == rs.name and not p["deleting"]]
            for _ in range(rs.replicas - len(mine)):
                pod = {"name": f"{rs.name}-{uuid.uuid4().hex[:5]}", "rs": rs.name, "born": model}
                node, why = self._schedule(rs.template)
                pod.update(template=rs.template, deleting=None, node=node, unschedulable=why)
                pods.append(pod)
                self._pod_events(ns, pod)
            mine.sort(
                key=lambda p: (
                    p["node"] is not None,
                    self.pod_running(p),
                    self.pod_ready(p),
                    -self.ready_at(p) if self.pod_ready(p) else 0.0,
                    -p["born"],
                )
            )
            for extra in mine[: max(len(mine) - rs.replicas, 0)]:
                extra["deleting"] = model + TERMINATION_GRACE

    def _deployment_status(
        self, key: str, rs: str, dep: dict[str, Any], pods: list[dict[str, Any]], total: int
    ) -> None:
        """sync.go calculateStatus (from the ReplicaSets: pods not terminating, those of
        the new one, ready = available; unavailable = the ReplicaSets' spec.replicas
        summed - available) and syncRolloutStatus's conditions (progress.go)."""
        spec, model = dep["spec"], self.now()
        want = spec["replicas"]
        current = [p for p in pods if not p["deleting"]]
        new = [p for p in current if p["rs"] == rs]
        ready = [p for p in new if self.pod_ready(p)]
        available = len([p for p in current if self.pod_ready(p)])
        seen_rs, started, seen_ready, seen_new = self.progress.get(key, ("", model, 0, 0))
        # Progress (util.DeploymentProgressing): a new ReplicaSet, or more updated or ready
        # pods (a scale-up creates updated pods); the deadline counts from the last of it.
        if (seen_rs and seen_rs != rs) or len(ready) > seen_ready or len(new) > seen_new:
            started = model
        self.progress[key] = (rs, started, len(ready), len(new))
        if len(new) == want and len(current) == want and available == want:
            prog = (
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs}" has successfully progressed.',
            )
        elif model - started >= spec["progressDeadlineSeconds"]:
            prog = (
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs}" has timed out progressing.',
            )
        elif seen_rs != rs:
            prog = ("True", "NewReplicaSetCreated", f'Created new replica set "{rs}"')
        else:
            prog = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs}" is progressing.')
        # Available: at least replicas - maxUnavailable pods available.
        if available >= want - rollout.max_unavailable(dep):
            avail = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            avail = (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        dep["status"] = _omitempty(
            {
                "observedGeneration": dep["metadata"]["generation"],
                "replicas": len(current),
                "updatedReplicas": len(new),
                "readyReplicas": available,
                "availableReplicas": available,
                "unavailableReplicas": max(total - available, 0),
                "conditions": self._conditions(dep, avail, prog),
            }
        )

    def _conditions(self, dep: dict[str, Any], *states: tuple[str, str, str]) -> list[dict]:
        """Available and Progressing, their times kept while their reason (lastUpdateTime)
        or status (lastTransitionTime) stays."""
        old = {c["type"]: c for c in (dep.get("status") or {}).get("conditions", [])}
        conditions = []
        for kind, (st, reason, message) in zip(("Available", "Progressing"), states, strict=True):
            was = old.get(kind, {})
            conditions.append(
                {
                    "type": kind,
                    "status": st,
                    "lastUpdateTime": was["lastUpdateTime"]
                    if was.get("reason") == reason
                    else self.stamp(),
                    "lastTransitionTime": was["lastTransitionTime"]
                    if was.get("status") == st
                    else self.stamp(),
                    "reason": reason,
                    "message": message,
                }
            )
        return conditions

    # --- scheduler, kubelet ---------------------------------------------------------------
    def _schedule(self, template: dict[str, Any]) -> tuple[str | None, str]:
        """scheduler.py: a node for the pod, or None and why (Pending, FailedScheduling);
        the pods placed so far, terminating ones too, hold their requests."""
        placed = [(p["node"], p["template"]) for ps in self.pods.values() for p in ps if p["node"]]
        return schedule(self.nodes, placed, template)

    def container_start(self, pod: dict[str, Any]) -> float:
        return pod["born"] + CONTAINER_START

    def pod_running(self, pod: dict[str, Any]) -> bool:
        return (
            pod["node"] is not None
            and not _unpullable(pod)
            and self.now() >= self.container_start(pod)
        )

    def ready_at(self, pod: dict[str, Any]) -> float:
        """When the pod turns Ready (modelled s), if it runs: `ready_after` seconds after its
        container starts, or as the kubelet's prober runs its readinessProbe (_probe_ready)."""
        if self.ready_after is not None:
            return self.container_start(pod) + self.ready_after
        probe = pod["template"]["spec"]["containers"][0].get("readinessProbe")
        return pod["born"] + _probe_ready(probe, CONTAINER_START)

    def pod_ready(self, pod: dict[str, Any]) -> bool:
        return self.pod_running(pod) and self.now() >= self.ready_at(pod)

    def _pod_events(self, ns: str, pod: dict[str, Any]) -> None:
        """Events in v1.30's shapes, as read through core/v1: the scheduler writes
        events.k8s.io/v1 events (eventTime set, firstTimestamp/lastTimestamp null:
        staging/src/k8s.io/client-go/tools/events), the kubelet still writes core/v1 ones
        (firstTimestamp/lastTimestamp and count, eventTime null: tools/record)."""
        name = pod["name"]
        image = pod["template"]["spec"]["containers"][0]["image"]
        if pod["node"] is None:
            message = pod["unschedulable"]
            self._event(ns, name, "Warning", "FailedScheduling", message, scheduler=True)
            return
        self._event(
            ns,
            name,
            "Normal",
            "Scheduled",
            f"Successfully assigned {ns}/{name} to {pod['node']}",
            scheduler=True,
        )
        self._event(ns, name, "Normal", "Pulling", f'Pulling image "{image}"', node=pod["node"])
        if _unpullable(pod):
            self._event(
                ns,
                name,
                "Warning",
                "Failed",
                f'Failed to pull image "{image}": manifest unknown',
                node=pod["node"],
            )

    def _scaling_event(self, ns: str, dep: dict[str, Any], message: str) -> None:
        """The deployment controller's ScalingReplicaSet event on the Deployment, written by
        kube-controller-manager's core/v1 recorder (tools/record: source component
        "deployment-controller", no host)."""
        meta = dep["metadata"]
        involved = {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"]}
        involved.update(namespace=ns, uid=meta["uid"], resourceVersion=meta["resourceVersion"])
        self._event(ns, meta["name"], "Normal", "ScalingReplicaSet", message, involved=involved)

    def _event(
        self, ns, pod, type_, reason, message, scheduler=False, node=None, involved=None
    ) -> None:
        """An event about pod `pod` (or `involved`, from the deployment controller)."""
        now = self.epoch + self.now() + len(self.events) * 1e-3  # distinct, ordered times
        event: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{pod}.{uuid.uuid4().hex[:16]}",
                "namespace": ns,
                "creationTimestamp": stamp(now),
                "resourceVersion": str(time.time_ns() // 1000),
            },
            "involvedObject": involved
            or {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": ns},
            "type": type_,
            "reason": reason,
            "message": message,
        }
        if scheduler:
            event.update(
                eventTime=micro(now),
                firstTimestamp=None,
                lastTimestamp=None,
                action="Scheduling" if type_ == "Warning" else "Binding",
                reportingComponent="default-scheduler",
                reportingInstance="default-scheduler-node1",
                source={},
            )
        else:
            component = "deployment-controller" if involved else "kubelet"
            event.update(
                eventTime=None,
                firstTimestamp=stamp(now),
                lastTimestamp=stamp(now),
                count=1,
                reportingComponent=component,
                reportingInstance=node or "",
                source={"component": component, "host": node} if node else {"component": component},
            )
        self.events.append(event)

    def pod_objects(self, ns: str, labels: str = "") -> list[dict[str, Any]]:
        """core/v1 Pods as the kubelet reports them, in namespace `ns` (all when empty) whose
        labels match the selector `labels`."""
        out = []
        for key, pods in self.pods.items():
            if ns and key.split("/")[0] != ns:
                continue
            for pod in pods:
                out.extend(self._pod(key.split("/")[0], pod, labels))
        return out

    def _pod(self, ns: str, pod: dict[str, Any], selected: str) -> list[dict]:
        template = copy.deepcopy(pod["template"])
        labels = {**template["metadata"]["labels"], "pod-template-hash": pod["rs"][-10:]}
        if not selector.matches(selected, labels):
            return []
        spec = template["spec"]
        if self.sidecar:
            spec["containers"].append(
                admission_container("log-shipper", "node1:5000/log-shipper:1.0")
            )
        ready = self.pod_ready(pod)
        running = self.pod_running(pod)
        waiting = "ErrImagePull" if _unpullable(pod) else "ContainerCreating"
        started = self.stamp(pod["born"])
        statuses = [
            {
                "name": c["name"],
                "image": c["image"],
                "imageID": f"{c['image'].split(':')[0]}@sha256:{'0' * 64}" if running else "",
                "ready": ready,
                "started": running,
                "restartCount": 0,
                "state": {"running": {"startedAt": started}}
                if running
                else {"waiting": {"reason": waiting}},
            }
            for c in spec["containers"]
        ]
        meta: dict[str, Any] = {
            "name": pod["name"],
            "namespace": ns,
            "labels": labels,
            "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, pod["name"])),
            "creationTimestamp": started,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": pod["rs"],
                    "uid": str(uuid.uuid5(uuid.NAMESPACE_OID, pod["rs"])),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        }
        if pod["deleting"]:
            meta["deletionTimestamp"] = self.stamp()
            meta["deletionGracePeriodSeconds"] = int(TERMINATION_GRACE)
        if pod["node"]:
            spec["nodeName"] = pod["node"]
            scheduled = {"type": "PodScheduled", "status": "True", "lastTransitionTime": started}
            became = self.stamp(self.ready_at(pod)) if ready else started
            conditions = [scheduled] + [
                {"type": t, "status": str(ready), "lastTransitionTime": became}
                for t in ("ContainersReady", "Ready")
            ]
            conditions.insert(1, {"type": "Initialized", "status": "True"})
            conditions[1]["lastTransitionTime"] = started
            status = {
                "phase": "Running" if running else "Pending",
                "hostIP": next(n.address for n in self.nodes if n.name == pod["node"]),
                "podIP": f"10.254.{64 + len(pod['name']) % 8}.{int(pod['born'] * 1000) % 250 + 2}",
                "startTime": started,
                "qosClass": "Burstable",
                "conditions": conditions,
                "containerStatuses": statuses,
            }
        else:
            status = {
                "phase": "Pending",
                "qosClass": "Burstable",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": pod["unschedulable"],
                        "lastTransitionTime": started,
                    }
                ],
            }
        return [
            {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
        ]

    # --- the load model, metrics-server -----------------------------------------------------
    def cpu_per_pod_m(self, ns: str, deployment: str) -> float:
        """Modelled CPU of each ready pod: idle plus an equal share of the traffic's demand
        (the Service sends it to ready endpoints only, and a terminating pod's endpoint is
        not ready: EndpointSlice conditions), capped at the CPU limit (CFS throttling)."""
        dep = self.objects.get(("deployments", ns, deployment))
        pods = [p for p in self.pods.get(f"{ns}/{deployment}", []) if self.serving(p)]
        if dep is None or not pods:
            return 0.0
        return min(self.idle_m + self.load_m / len(pods), _cpu_limit(dep["spec"]["template"]))

    def serving(self, pod: dict[str, Any]) -> bool:
        """Ready and not terminating: a pod the Service sends traffic to."""
        return self.pod_ready(pod) and not pod["deleting"]

    def pod_cpu_m(self, key: str, pod: dict[str, Any]) -> float:
        """One running pod's CPU now: its share of the load when serving, idle when not."""
        if self.serving(pod):
            ns, deployment = key.split("/")
            return self.cpu_per_pod_m(ns, deployment)
        return min(self.idle_m, _cpu_limit(pod["template"]))

    def pod_views(self, dep: dict[str, Any]) -> list[replicas.PodView]:
        """The Deployment's pods as the HPA controller's pod lister and metrics client read
        them: the metric is PodMetrics' CPU in whole millicores (rounded up, summed over
        containers, as the metrics client takes MilliValue), not the modelled value."""
        ns, name = dep["metadata"]["namespace"], dep["metadata"]["name"]
        views = []
        for pod in self.pods.get(f"{ns}/{name}", []):
            sample = self.metrics_server.sample(pod)
            metric = None
            if sample:
                value = math.ceil(sample.cpu_m + 0.874532) + (3 if self.sidecar else 0)
                metric = (float(value), sample.timestamp, sample.window)
            ready = self.pod_ready(pod)
            views.append(
                replicas.PodView(
                    name=pod["name"],
                    deleting=bool(pod["deleting"]),
                    pending=not self.pod_running(pod),
                    ready=ready,
                    ready_changed=self.ready_at(pod) if ready else pod["born"],
                    started=pod["born"],
                    request_m=cpu_request(pod["template"]),
                    metric=metric,
                )
            )
        return views

    def pod_metrics(self, ns: str) -> list[dict[str, Any]]:
        """metrics.k8s.io/v1beta1 PodMetrics as metrics-server reports them: CPU in
        nanocores, memory in Ki, one entry per container (metrics-server pkg/api/pod.go),
        for the pods it has two points for (metrics.py), as of its last scrape; in `ns`, or
        in every namespace when empty."""
        items = []
        for key, pods in self.pods.items():
            if ns and key.split("/")[0] != ns:
                continue
            for pod in pods:
                sample = self.metrics_server.sample(pod)
                if sample is None:
                    continue
                container = pod["template"]["spec"]["containers"][0]["name"]
                cpu = f"{int(sample.cpu_m * 1e6) + 874532}n"
                memory = f"{POD_MEMORY_KI}Ki"
                containers = [{"name": container, "usage": {"cpu": cpu, "memory": memory}}]
                if self.sidecar:
                    sidecar = {"cpu": "2467118n", "memory": f"{SIDECAR_MEMORY_KI}Ki"}
                    containers.append({"name": "log-shipper", "usage": sidecar})
                items.append(
                    {
                        "metadata": {
                            "name": pod["name"],
                            "namespace": key.split("/")[0],
                            "creationTimestamp": self.stamp(),
                            "labels": pod["template"]["metadata"]["labels"],
                        },
                        "timestamp": self.stamp(sample.timestamp),
                        "window": f"{sample.window:g}s",
                        "containers": containers,
                    }
                )
        return items


def _cpu_limit(template: dict[str, Any]) -> float:
    limit = template["spec"]["containers"][0].get("resources", {}).get("limits", {}).get("cpu")
    return float(parse_quantity(limit)) * 1000 if limit else math.inf


def admission_container(name: str, image: str) -> dict[str, Any]:
    spec = {"containers": [{"name": name, "image": image}]}
    admission.pod_spec(spec)
    return spec["containers"][0]


def _probe_ready(probe: dict[str, Any] | None, started: float) -> float:
    """Seconds from the pod's start on its node to Ready, for a container running `started`
    seconds after it. The kubelet's probe worker starts with the pod and probes at once, then
    every periodSeconds; a probe is skipped while the container has run (whole seconds) less
    than initialDelaySeconds, and successThreshold successes in a row make it ready
    (pkg/kubelet/prober/worker.go run/doProbe; the API's defaults 0, 10, 1). Every probe
    succeeds here. Without a probe a running container is ready at once."""
    if not probe:
        return started
    first, period = probe.get("initialDelaySeconds", 0), probe.get("periodSeconds", 10)
    tick = 0.0
    while tick < started or math.floor(tick - started) < first:
        tick += period
    return tick + period * (probe.get("successThreshold", 1) - 1)


def _unpullable(pod: dict[str, Any]) -> bool:
    return "unpullable" in pod["template"]["spec"]["containers"][0]["image"]


def _body(obj: dict[str, Any]) -> str:
    rest = {k: v for k, v in obj.items() if k != "status"}
    meta = {
        k: v
        for k, v in obj["metadata"].items()
        if k not in ("resourceVersion", "managedFields", "generation")
    }
    return json.dumps({**rest, "metadata": meta}, sort_keys=True)


def _omitempty(d: dict[str, Any]) -> dict[str, Any]:
    """Go's `json:",omitempty"`: zero values left out."""
    return {k: v for k, v in d.items() if v not in (0, None, "", [], {})}


def _fresh_status(res: str) -> dict[str, Any]:
    if res == "namespaces":
        return {"phase": "Active"}
    if res == "services":
        return {"loadBalancer": {}}
    if res == "horizontalpodautoscalers":
        # HorizontalPodAutoscalerStatus: currentReplicas is omitempty, desiredReplicas not.
        return {"desiredReplicas": 0}
    return {}
