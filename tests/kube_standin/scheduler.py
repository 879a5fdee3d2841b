"""kube-scheduler, standing in for the real one: of the nodes (nodes.py), the filters our pods
meet, TaintToleration then NodeResourcesFit (in v1.30's default plugin order), the pod going
to the feasible node with the least CPU requested (NodeResourcesFit's LeastAllocated score);
with none feasible, the FitError message the FailedScheduling event and the pod's
PodScheduled condition carry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from tests.kube_standin.nodes import CPU_M, Node, untolerated


def cpu_request(template: dict[str, Any]) -> float:
    """The pod's CPU request (m), summed over its containers."""
    total = 0.0
    for c in template["spec"]["containers"]:
        cpu = c.get("resources", {}).get("requests", {}).get("cpu")
        total += float(parse_quantity(cpu)) * 1000 if cpu else 0
    return total


def schedule(
    nodes: list[Node], placed: Iterable[tuple[str, dict[str, Any]]], template: dict[str, Any]
) -> tuple[str | None, str]:
    """(node, "") for a pod of `template`, given the (node, template) of the pods already
    placed; or (None, why) as pkg/scheduler/framework/types.go FitError.Error words it: each
    node's first failing filter, counted and sorted, then the preemption plugin's verdict
    (a taint: not helpful; too little CPU: no victims, as our pods share one priority).
    Each part ends with SeparatorFormat's " %v.", so v1.30 writes ".." at the end."""
    want = cpu_request(template)
    used = {n.name: 0.0 for n in nodes}
    for name, other in placed:
        if name in used:
            used[name] += cpu_request(other)
    tolerations = template["spec"].get("tolerations") or []
    reasons: Counter[str] = Counter()
    preemption: Counter[str] = Counter()
    feasible = []
    for node in nodes:
        taint = untolerated(node, tolerations)
        if taint is not None:
            value = taint.get("value", "")
            reasons[f"node(s) had untolerated taint {{{taint['key']}: {value}}}"] += 1
            preemption["Preemption is not helpful for scheduling"] += 1
        elif CPU_M - used[node.name] < want:
            reasons["Insufficient cpu"] += 1
            preemption["No preemption victims found for incoming pod"] += 1
        else:
            feasible.append(node)
    if feasible:
        return min(feasible, key=lambda n: used[n.name]).name, ""
    total = f"0/{len(nodes)} nodes are available"
    return None, (
        f"{total}: {_histogram(reasons)}. preemption: {total}: {_histogram(preemption)}.."
    )


def _histogram(counts: Counter[str]) -> str:
    return ", ".join(sorted(f"{n} {reason}" for reason, n in counts.items()))
