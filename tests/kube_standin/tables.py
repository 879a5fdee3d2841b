"""meta.k8s.io/v1 Table answers for `kubectl get` (server-side printing,
https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables),
with the columns of pkg/printers/internalversion/printers.go (priority 1: only with -o wide)."""

from __future__ import annotations

import calendar
import time
from typing import Any

COLUMNS = {
    "nodes": [
        "NAME",
        "STATUS",
        "ROLES",
        "AGE",
        "VERSION",
        "*INTERNAL-IP",
        "*EXTERNAL-IP",
        "*OS-IMAGE",
        "*KERNEL-VERSION",
        "*CONTAINER-RUNTIME",
    ],
    "pods": [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "*IP",
        "*NODE",
        "*NOMINATED NODE",
        "*READINESS GATES",
    ],
    "services": ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "*SELECTOR"],
    "deployments": [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "*CONTAINERS",
        "*IMAGES",
        "*SELECTOR",
    ],
    "replicasets": [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "AGE",
        "*CONTAINERS",
        "*IMAGES",
        "*SELECTOR",
    ],
    "horizontalpodautoscalers": [
        "NAME",
        "REFERENCE",
        "TARGETS",
        "MINPODS",
        "MAXPODS",
        "REPLICAS",
        "AGE",
    ],
    "namespaces": ["NAME", "STATUS", "AGE"],
    "secrets": ["NAME", "TYPE", "DATA", "AGE"],
    "events": ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
}


def age(timestamp: str | None, now: float) -> str:
    if not timestamp:
        return "<unknown>"
    seconds = int(now - calendar.timegm(time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S")))
    # apimachinery pkg/util/duration HumanDuration, as kubectl's AGE column.
    s = max(seconds, 0)
    m, h, d = s // 60, s // 3600, s // 86400
    for limit, text in (
        (120, f"{s}s"),
        (600, f"{m}m{s % 60}s" if s % 60 else f"{m}m"),
        (3 * 3600, f"{m}m"),
        (8 * 3600, f"{h}h{m % 60}m" if m % 60 else f"{h}h"),
        (2 * 86400, f"{h}h"),
        (8 * 86400, f"{d}d{h % 24}h" if h % 24 else f"{d}d"),
    ):
        if s < limit:
            return text
    return f"{d}d" if d < 730 else f"{d // 365}y"


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "<none>"


def _cells(res: str, o: dict[str, Any], now: float) -> list[Any]:
    meta, spec, st = o["metadata"], o.get("spec", {}), o.get("status", {})
    created = age(meta.get("creationTimestamp"), now)
    if res == "nodes":
        ready = next(c["status"] for c in st["conditions"] if c["type"] == "Ready")
        roles = [k.split("/", 1)[1] for k in meta["labels"] if k.startswith("node-role.")]
        ip = next(a["address"] for a in st["addresses"] if a["type"] == "InternalIP")
        info = st["nodeInfo"]
        return [
            meta["name"],
            "Ready" if ready == "True" else "NotReady",
            ",".join(roles) or "<none>",
            created,
            info["kubeletVersion"],
            ip,
            "<none>",
            info["osImage"],
            info["kernelVersion"],
            info["containerRuntimeVersion"],
        ]
    if res == "pods":
        statuses = st.get("containerStatuses", [])
        waiting = [s["state"]["waiting"]["reason"] for s in statuses if "waiting" in s["state"]]
        shown = "Terminating" if meta.get("deletionTimestamp") else (waiting or [st["phase"]])[0]
        ready = sum(1 for s in statuses if s["ready"])
        return [
            meta["name"],
            f"{ready}/{len(spec['containers'])}",
            shown,
            0,
            created,
            st.get("podIP", "<none>"),
            spec.get("nodeName", "<none>"),
            "<none>",
            "<none>",
        ]
    if res == "services":
        ports = ",".join(f"{p['port']}/{p['protocol']}" for p in spec.get("ports", []))
        return [
            meta["name"],
            spec["type"],
            spec.get("clusterIP", "<none>"),
            ",".join(spec.get("externalIPs", [])) or "<none>",
            ports,
            created,
            _selector(spec.get("selector", {})),
        ]
    if res in ("deployments", "replicasets"):
        containers = spec["template"]["spec"]["containers"]
        names = ",".join(c["name"] for c in containers)
        images = ",".join(c["image"] for c in containers)
        sel = _selector(spec["selector"].get("matchLabels", {}))
        if res == "deployments":
            return [
                meta["name"],
                f"{st.get('readyReplicas', 0)}/{spec['replicas']}",
                st.get("updatedReplicas", 0),
                st.get("availableReplicas", 0),
                created,
                names,
                images,
                sel,
            ]
        return [
            meta["name"],
            spec["replicas"],
            st.get("replicas", 0),
            st.get("readyReplicas", 0),
            created,
            names,
            images,
            sel,
        ]
    if res == "horizontalpodautoscalers":
        current = {
            m["resource"]["name"]: m["resource"]["current"].get("averageUtilization")
            for m in st.get("currentMetrics", [])
        }
        targets = ", ".join(
            f"cpu: {current.get(m['resource']['name'], '<unknown>')}"
            f"{'%' if m['resource']['name'] in current else ''}/"
            f"{m['resource']['target']['averageUtilization']}%"
            for m in spec["metrics"]
        )
        ref = spec["scaleTargetRef"]
        return [
            meta["name"],
            f"{ref['kind']}/{ref['name']}",
            targets,
            spec.get("minReplicas", 1),
            spec["maxReplicas"],
            st.get("currentReplicas", 0),
            created,
        ]
    if res == "namespaces":
        return [meta["name"], st.get("phase", "Active"), created]
    if res == "secrets":
        return [meta["name"], o.get("type", "Opaque"), len(o.get("data", {})), created]
    if res == "events":
        when = o.get("lastTimestamp") or o.get("eventTime")
        involved = o["involvedObject"]
        return [
            age(when, now),
            o["type"],
            o["reason"],
            f"{involved['kind'].lower()}/{involved['name']}",
            o["message"],
        ]
    raise KeyError(res)


def table(
    res: str, items: list[dict[str, Any]], query: dict[str, str], now: float
) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table; ages as of `now`, the cluster's modelled wall time."""
    columns = [
        {
            "name": name.lstrip("*"),
            "type": "integer"
            if name in ("RESTARTS", "DESIRED", "CURRENT", "MINPODS")
            else "string",
            "format": "name" if name == "NAME" else "",
            "description": name.lstrip("*").lower(),
            "priority": 1 if name.startswith("*") else 0,
        }
        for name in COLUMNS[res]
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": str(time.time_ns() // 1000)},
        "columnDefinitions": columns,
        "rows": [
            {
                "cells": _cells(res, o, now),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": o["metadata"],
                },
            }
            for o in items
        ],
    }
