"""The cluster grown (or shrunk) to N nodes, for the lab at scale and the cost-curve
benchmark: node1..nodeN at consecutive addresses from node1's, roles left to kubespray's
inventory builder rule, everything else (user, networks, the lab's range) kept.

    >>> scaled_raw(load_cluster(), 4)
    {'user': 'cc', 'private_network': '192.168.1.0/24', 'nodes': [{'name': 'node1',
    'address': '192.168.1.11', 'jump': True}, {'name': 'node2', 'address': '192.168.1.12'},
    ... 'lab': {'range': '10.254.0.0/16', ...}}
"""

from __future__ import annotations

from pathlib import Path

from gourmetops.cluster import Cluster, ClusterError, parse_cluster
from gourmetops.safe_write import write_text
from gourmetops.yamlio import dump

MAX_NODES = 100


def scaled_raw(base: Cluster, count: int) -> dict:
    """The mapping cluster.yaml would hold for `count` nodes."""
    if not 1 <= count <= MAX_NODES:
        raise ClusterError(f"--nodes {count}: give between 1 and {MAX_NODES}")
    first = base.jump.address
    raw: dict = {"user": base.user, "private_network": str(base.private_network), "nodes": []}
    for k in range(count):
        node = {"name": f"node{k + 1}", "address": str(first + k)}
        raw["nodes"].append({**node, "jump": True} if k == 0 else node)
    if base.lab is not None:
        lab = base.lab
        raw["lab"] = {
            "range": str(lab.range),
            "private_network": str(lab.private_network),
            "public_network": str(lab.public_network),
        }
    return raw


def write_scaled(base: Cluster, count: int, path: Path) -> Cluster:
    """Write the N-node file after it validates like any cluster.yaml (addresses that run
    past the private network are refused there, naming the node)."""
    raw = scaled_raw(base, count)
    cluster = parse_cluster(raw, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    header = f"# {base.source} grown to {count} nodes (gourmetops.lab.scaled); do not edit.\n"
    write_text(path, header + dump(raw, plain=True), "the grown cluster file")
    return cluster
