"""The cluster model (cluster.yaml) and what is derived from it; pure logic, no hosts."""

from __future__ import annotations

import ipaddress
import re

import pytest

from gourmetops import PROJECT_ROOT
from gourmetops.cluster import ClusterError, load_cluster, parse_cluster
from gourmetops.errors import InputError
from gourmetops.targets import Target, lab_target
from gourmetops.yamlio import load_config

TUTORIAL = {
    "user": "cc",
    "private_network": "192.168.1.0/24",
    "nodes": [
        {
            "name": "node1",
            "address": "192.168.1.11",
            "jump": True,
            "roles": ["kube_control_plane", "kube_node", "etcd"],
        },
        {"name": "node2", "address": "192.168.1.12", "roles": ["kube_node", "etcd"]},
        {"name": "node3", "address": "192.168.1.13", "roles": ["kube_node", "etcd"]},
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
            "node 'node2' address: '192.168.1.300' is not an IPv4 address (expected A.B.C.D)",
        ),
        (
            lambda raw: raw["nodes"][1].update(jump=True),
            "exactly one node must have 'jump: true' (found ['node1', 'node2'])",
        ),
        (
            lambda raw: raw["nodes"][0].update(roles=["master"]),
            "node 'node1' roles[0]: must be one of 'kube_control_plane', 'kube_node' or 'etcd', "
            "not 'master'",
        ),
        (lambda raw: raw.pop("user"), "user is missing"),
        (
            lambda raw: raw["nodes"][0].update(jump="false"),
            "node 'node1' jump: must be a boolean (true/false in YAML, True/False in Python), "
            "not 'false'",
        ),
        (
            lambda raw: raw["nodes"][2].update(address="192.168.2.13"),
            "node 'node3' address 192.168.2.13 is not a host of private_network 192.168.1.0/24",
        ),
        (
            lambda raw: raw["nodes"][0].update(roles=["kube_node", "etcd"]),
            "no node has the role kube_control_plane; give it to at least one",
        ),
        (
            lambda raw: raw["nodes"][2].update(roles=["kube_node"]),
            "etcd needs an odd number of members for a quorum, not 2 (['node1', 'node2'])",
        ),
        (lambda raw: raw.update(usr="cc"), "unknown key 'usr'; did you mean 'user'?"),
        (
            lambda raw: raw["nodes"][1].update(adress="192.168.1.12"),
            "node 'node2': unknown key 'adress'; did you mean 'address'?",
        ),
    ],
)
def test_bad_cluster_descriptions_name_the_problem(change, message):
    raw = {**TUTORIAL, "nodes": [dict(n) for n in TUTORIAL["nodes"]]}
    change(raw)
    with pytest.raises(ClusterError) as err:
        parse_cluster(raw, "my-cluster.yaml")
    assert str(err.value) == f"my-cluster.yaml: {message}"


def test_every_problem_is_reported_at_once():
    raw = {**TUTORIAL, "user": "Root User", "nodes": [dict(n) for n in TUTORIAL["nodes"]]}
    raw["nodes"][1]["address"] = "192.168.1.999"
    with pytest.raises(ClusterError) as err:
        parse_cluster(raw, "c.yaml")
    assert str(err.value).splitlines() == [
        "c.yaml: user: 'Root User' is not a valid user name: lowercase letters, digits, '_' "
        "and '-', starting with a letter or '_', at most 32 characters",
        "c.yaml: node 'node2' address: '192.168.1.999' is not an IPv4 address (expected A.B.C.D)",
    ]


def test_two_nodes_on_one_lab_address_are_refused():
    """A /16 private network keeps host parts the lab's /24 cannot tell apart."""
    raw = {
        **TUTORIAL,
        "private_network": "192.168.0.0/16",
        "nodes": [dict(n) for n in TUTORIAL["nodes"]],
        "lab": {
            "range": "10.254.0.0/16",
            "private_network": "10.254.1.0/24",
            "public_network": "10.254.0.0/30",
        },
    }
    raw["nodes"][2]["address"] = "192.168.2.11"
    with pytest.raises(ClusterError) as err:
        parse_cluster(raw, "c.yaml")
    assert str(err.value) == (
        "c.yaml: node3 and node1 both land on 10.254.1.11 in 10.254.1.0/24: give them "
        "different host parts (the part after the network prefix)"
    )


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
    target = Target("chameleon", cluster, ipaddress.IPv4Address("127.0.0.7"), {})
    text = target.ssh_config_text()
    blocks = {b.split()[0]: b for b in text.split("Host ")[1:]}
    assert "HostName 127.0.0.7" in blocks["node1"] and "ProxyJump" not in blocks["node1"]
    for name, address in (("node2", "192.168.1.12"), ("node3", "192.168.1.13")):
        assert f"HostName {address}" in blocks[name]
        assert "ProxyJump node1" in blocks[name]
    assert "User cc" in blocks["*"]


def test_an_edited_cluster_file_is_read_anew_and_a_changed_model_changes_no_later_read(tmp_path):
    """cluster.yaml's parse is kept by its text (one parse per run, however many targets
    read it): an edit between two reads is seen, and a caller changing what it was given
    changes nothing for the next."""
    path = tmp_path / "cluster.yaml"
    text = (PROJECT_ROOT / "cluster.yaml").read_text()
    path.write_text(text)
    first = load_config(path)
    first["nodes"].clear()
    assert load_config(path)["nodes"], "the cached parse was changed through a caller"
    path.write_text(text.replace("user: cc", "user: student"))
    assert load_cluster(path).user == "student"
    path.write_text("nodes: *a\n")
    with pytest.raises(
        InputError, match=rf"{re.escape(str(path))}: line 1, column 8: YAML aliases"
    ):
        load_config(path)
