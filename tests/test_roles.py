"""Roles assigned when cluster.yaml gives none: checked against kubespray's own inventory
builder (contrib/inventory_builder/inventory.py of the kubespray checkout in use), run for
real on the same node lists, so the rule cannot drift from the one the tutorial used."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from ruamel.yaml import YAML

from gourmetops.cluster import ClusterError, parse_cluster
from gourmetops.kubespray.checkout import controller_checkout
from gourmetops.roles import builder_roles
from tests.kubespray_source import KUBESPRAY

GROUPS = ("kube_control_plane", "kube_node", "etcd")


def builders_groups(tmp_path, count: int) -> dict[str, tuple[str, ...]]:
    """Node -> groups as kubespray's inventory builder writes hosts.yaml for `count` nodes."""
    builder = controller_checkout(KUBESPRAY, "release-2.26") / "contrib/inventory_builder"
    hosts = tmp_path / f"hosts-{count}.yaml"
    addresses = [f"10.254.1.{i}" for i in range(1, count + 1)]  # the lab's range; unsent
    subprocess.run(
        [sys.executable, str(builder / "inventory.py"), *addresses],
        env={**os.environ, "CONFIG_FILE": str(hosts)},
        check=True,
        capture_output=True,
    )
    children = YAML(typ="safe").load(hosts.read_text())["all"]["children"]
    names = [f"node{i}" for i in range(1, count + 1)]
    return {n: tuple(g for g in GROUPS if n in (children[g].get("hosts") or {})) for n in names}


@pytest.mark.parametrize("count", [1, 2, 3, 6, 12, 50, 200])
def test_same_groups_as_kubesprays_inventory_builder(tmp_path, count):
    names = [f"node{i}" for i in range(1, count + 1)]
    assert builder_roles(names) == builders_groups(tmp_path, count)


def _cluster(nodes: list[dict]) -> dict:
    return {"user": "cc", "private_network": "10.254.1.0/24", "nodes": nodes}


def test_a_cluster_without_roles_gets_the_builders_and_the_tutorials_groups():
    nodes = [{"name": f"node{i}", "address": f"10.254.1.{10 + i}"} for i in range(1, 4)]
    nodes[0]["jump"] = True
    cluster = parse_cluster(_cluster(nodes), "cluster.yaml")
    # the tutorial's three nodes: the same groups as the roles written in cluster.yaml
    assert [n.roles for n in cluster.nodes] == [
        ("kube_control_plane", "kube_node", "etcd"),
        ("kube_control_plane", "kube_node", "etcd"),
        ("kube_node", "etcd"),
    ]


def test_roles_for_some_nodes_only_are_refused_naming_them():
    nodes = [
        {"name": "node1", "address": "10.254.1.11", "jump": True, "roles": ["kube_node", "etcd"]},
        {"name": "node2", "address": "10.254.1.12"},
    ]
    with pytest.raises(ClusterError, match=r"roles are given for \['node1'\] but not for"):
        parse_cluster(_cluster(nodes), "cluster.yaml")
