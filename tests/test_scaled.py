"""cluster.yaml grown to N nodes (`fab lab.scale`, gourmetops.lab.scaled) and node1's sshd
sized for the jump host of N nodes (gourmetops.jump): no lab, no host contacted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT
from gourmetops.cluster import ClusterError, load_cluster, parse_cluster
from gourmetops.jump import max_startups, sshd_dropin
from gourmetops.lab.scaled import scaled_raw, write_scaled
from gourmetops.targets import lab_target


def test_twelve_nodes_validate_with_the_builder_roles(tmp_path):
    cluster = write_scaled(load_cluster(), 12, tmp_path / "cluster-12.yaml")
    again = load_cluster(tmp_path / "cluster-12.yaml")  # what every task reads from the file
    assert again == cluster
    assert [n.name for n in cluster.nodes] == [f"node{i}" for i in range(1, 13)]
    assert [str(n.address) for n in cluster.nodes][-1] == "192.168.1.22"
    assert cluster.jump.name == "node1" and len(cluster.workers) == 11
    roles = {n.name: n.roles for n in cluster.nodes}
    assert [n for n, r in roles.items() if "kube_control_plane" in r] == ["node1", "node2"]
    assert [n for n, r in roles.items() if "etcd" in r] == ["node1", "node2", "node3"]
    assert all("kube_node" in r for r in roles.values())
    lab = lab_target(cluster)  # re-addressed into the lab, host parts kept
    assert str(lab.cluster.node("node12").address) == "10.254.1.22"
    config = lab.ssh_config_text()
    assert config.count("ProxyJump node1") == 11


def test_three_nodes_are_cluster_yaml_itself():
    base = load_cluster()
    grown = parse_cluster(scaled_raw(base, 3), "scaled")
    assert [(n.name, n.address, n.roles, n.jump) for n in grown.nodes] == [
        (n.name, n.address, n.roles, n.jump) for n in base.nodes
    ]


@pytest.mark.parametrize("count", [0, 101])
def test_a_count_out_of_range_is_refused(count):
    with pytest.raises(ClusterError, match=f"--nodes {count}: give between 1 and 100"):
        scaled_raw(load_cluster(), count)


def test_addresses_past_the_private_network_are_refused_naming_the_node(tmp_path):
    base = parse_cluster(
        {
            "user": "cc",
            "private_network": "10.254.1.0/28",
            "nodes": [{"name": "node1", "address": "10.254.1.11", "jump": True}],
        },
        "small.yaml",
    )
    with pytest.raises(ClusterError, match=r"node 'node5' address 10\.254\.1\.15 is not a host"):
        write_scaled(base, 5, tmp_path / "c.yaml")
    assert not (tmp_path / "c.yaml").exists()


def test_fab_lab_scale_writes_the_file_and_says_how_to_use_it():
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("fab")), "lab.scale", "--nodes", "6"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    path = PROJECT_ROOT / ".lab" / "clusters" / "cluster-6.yaml"
    assert f"wrote {path} (6 nodes" in proc.stdout
    assert f"GOURMETOPS_CLUSTER={path} fab up --target lab" in proc.stdout
    assert len(load_cluster(path).nodes) == 6


@pytest.mark.parametrize(
    ("nodes", "expected"), [(1, "10:30:100"), (3, "10:30:100"), (6, "12:30:120"), (12, "24:30:240")]
)
def test_maxstartups_grows_with_the_cluster_never_below_openssh_default(nodes, expected):
    assert max_startups(nodes) == expected
    assert sshd_dropin(nodes).splitlines()[-1] == f"MaxStartups {expected}"
