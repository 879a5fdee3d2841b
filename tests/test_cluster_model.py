"""The cluster model (cluster.yaml) and what is derived from it; pure logic, no hosts."""

from __future__ import annotations

import ipaddress

import pytest

from gourmetops.cluster import ClusterError, load_cluster, parse_cluster
from gourmetops.targets import Target, lab_target

TUTORIAL = {
    "user": "cc",
    "nodes": [
        {"name": "node1", "address": "192.168.1.11", "jump": True, "roles": ["kube_node"]},
        {"name": "node2", "address": "192.168.1.12", "roles": ["kube_node"]},
        {"name": "node3", "address": "192.168.1.13", "roles": ["kube_node"]},
    ],
}


def test_shipped_cluster_is_the_tutorials():
    cluster = load_cluster()
    assert [(n.name, str(n.address)) for n in cluster.nodes] == [
        ("node1", "192.168.1.11"),
        ("node2", "192.168.1.12"),
        ("node3", "192.168.1.13"),
    ]
    assert cluster.user == "cc"
    assert cluster.jump.name == "node1"
    assert [n.name for n in cluster.workers] == ["node2", "node3"]
    assert all("kube_node" in n.roles and "etcd" in n.roles for n in cluster.nodes)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw["nodes"][1].update(name="node1"), "duplicate node name 'node1'"),
        (
            lambda raw: raw["nodes"][2].update(address="192.168.1.11"),
            "duplicate node address '192.168.1.11'",
        ),
        (
            lambda raw: raw["nodes"][1].update(address="192.168.1.300"),
            "node 'node2' address: '192.168.1.300' is not an IPv4 address",
        ),
        (lambda raw: raw["nodes"][1].update(jump=True), "exactly one node must have 'jump: true'"),
        (lambda raw: raw["nodes"][0].update(roles=["master"]), "unknown role(s) ['master']"),
        (lambda raw: raw.pop("user"), "'user' must be a non-empty string"),
    ],
)
def test_bad_cluster_descriptions_name_the_problem(change, message):
    raw = {"user": TUTORIAL["user"], "nodes": [dict(n) for n in TUTORIAL["nodes"]]}
    change(raw)
    with pytest.raises(ClusterError) as err:
        parse_cluster(raw, "my-cluster.yaml")
    assert str(err.value).startswith("my-cluster.yaml: ")
    assert message in str(err.value)


def test_missing_cluster_file_is_named(tmp_path):
    with pytest.raises(ClusterError, match="nowhere.yaml: cluster description not found"):
        load_cluster(tmp_path / "nowhere.yaml")


def test_lab_keeps_host_parts_inside_its_own_range():
    target = lab_target()
    lab = target.cluster.lab
    assert lab is not None
    assert [str(n.address) for n in target.cluster.nodes] == [
        "10.254.1.11",
        "10.254.1.12",
        "10.254.1.13",
    ]
    assert all(n.address in lab.range for n in target.cluster.nodes)
    assert target.public_address in lab.public_network
    assert not ipaddress.IPv4Network("192.168.1.0/24").overlaps(lab.range)


def test_ssh_config_jumps_through_node1_only():
    cluster = parse_cluster(TUTORIAL, "t.yaml")
    target = Target("chameleon", cluster, ipaddress.IPv4Address("203.0.113.7"), {})
    text = target.ssh_config_text()
    blocks = {b.split()[0]: b for b in text.split("Host ")[1:]}
    assert "HostName 203.0.113.7" in blocks["node1"] and "ProxyJump" not in blocks["node1"]
    for name, address in (("node2", "192.168.1.12"), ("node3", "192.168.1.13")):
        assert f"HostName {address}" in blocks[name]
        assert "ProxyJump node1" in blocks[name]
    assert "User cc" in blocks["*"]
