"""Whether the cluster kubespray installed is up as asked: every node of cluster.yaml
registered, Ready, and running the wanted kubelet version, read on node1 with the admin
kubeconfig kubespray leaves there (`kubectl get nodes -o json`).

    >>> states = {"node1": (True, "v1.30.4"), "node2": (False, "v1.30.4")}
    >>> summary(states, ["node1", "node2"], "v1.30.4")
    (False, 'not every node is Ready: node2 (NotReady)')
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from gourmetops.errors import GourmetopsError

# kubespray's admin kubeconfig on a control-plane node, and its kubectl in /usr/local/bin
NODES_COMMAND = "sudo kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json"


class NodeListError(GourmetopsError, ValueError):
    """The output read is not a node list."""


def node_states(nodes_json: str) -> dict[str, tuple[bool, str]]:
    """Node name -> (Ready, kubelet version), from `kubectl get nodes -o json`."""
    try:
        items = json.loads(nodes_json)["items"]
        states = {}
        for item in items:
            status = item.get("status", {})
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions", [])
            )
            version = str(status.get("nodeInfo", {}).get("kubeletVersion", "?"))
            states[str(item["metadata"]["name"])] = (ready, version)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NodeListError(f"not a node list from `kubectl get nodes -o json`: {exc}") from exc
    return states


def not_ready(states: dict[str, tuple[bool, str]], expected: Iterable[str]) -> list[str]:
    """Expected nodes that are missing or not Ready, each with why."""
    problems = []
    for name in expected:
        if name not in states:
            problems.append(f"{name} (not registered)")
        elif not states[name][0]:
            problems.append(f"{name} (NotReady)")
    return problems


def summary(
    states: dict[str, tuple[bool, str]], expected: list[str], wanted: str | None
) -> tuple[bool, str]:
    """(all as asked, one line): "3 nodes Ready at v1.30.4", or what is not."""
    problems = not_ready(states, expected)
    if problems:
        return False, f"not every node is Ready: {', '.join(problems)}"
    versions = {states[n][1] for n in expected}
    off = [f"{n} at {states[n][1]}" for n in expected if wanted and states[n][1] != wanted]
    if off:
        return False, f"kube_version is {wanted}, but {', '.join(off)}"
    if len(versions) > 1:
        return False, "the nodes run different versions: " + ", ".join(
            f"{n} {states[n][1]}" for n in expected
        )
    return True, f"{len(expected)} nodes Ready at {versions.pop()}"
