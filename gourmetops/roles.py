"""Roles for a cluster.yaml that gives its nodes none: the rule of kubespray's inventory
builder (contrib/inventory_builder/inventory.py, the tutorial's way to make hosts.yaml;
removed upstream in v2.27), so the same node list gets the same groups as it gave.

    >>> builder_roles(["node1", "node2", "node3"])["node3"]
    ('kube_node', 'etcd')
"""

from __future__ import annotations

# The builder's defaults (its KUBE_CONTROL_HOSTS, SCALE_THRESHOLD, MASSIVE_SCALE_THRESHOLD).
CONTROL_PLANES = 2
SCALE_THRESHOLD = 50  # from here etcd has nodes of its own, no workloads
MASSIVE_SCALE_THRESHOLD = 200  # from here the control plane runs no workloads either
ORDER = ("kube_control_plane", "kube_node", "etcd")


def builder_roles(names: list[str]) -> dict[str, tuple[str, ...]]:
    """Node name -> roles, in cluster.yaml's order: etcd on the first three (one below three
    nodes), the control plane on the first two (on the two after etcd's from 50 nodes on),
    kube_node on every node but those the thresholds set apart."""
    etcd = names[: 3 if len(names) >= 3 else 1]
    first = len(etcd) if len(names) >= SCALE_THRESHOLD else 0
    control = names[first : first + CONTROL_PLANES]
    roles: dict[str, tuple[str, ...]] = {}
    for name in names:
        has = {"etcd"} if name in etcd else set()
        if name in control:
            has.add("kube_control_plane")
        apart = (len(names) >= SCALE_THRESHOLD and name in etcd) or (
            len(names) >= MASSIVE_SCALE_THRESHOLD and name in control
        )
        if not apart:
            has.add("kube_node")
        roles[name] = tuple(r for r in ORDER if r in has)
    return roles
