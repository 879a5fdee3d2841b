"""`fab nodes.remove NAME` (gourmetops/kubespray/remove.py): refused for node1, the first
control plane or etcd node, a node not in node1's record or in no inventory; without the
typed target name; remove-node.yml confirmed and on the node only; the record, the kept
inventory and hosts.yaml after it. node1 is a throwaway home (tests/node1_home.py) where the
commands run for real; only the SSH connection is stood in for, and remove-node.yml is
listed by the real ansible-playbook, not run (it runs on the lab, tests/test_nodes_lab.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from gourmetops.errors import InputError
from gourmetops.kubespray import record as records
from gourmetops.kubespray import remove as removing
from gourmetops.kubespray.inventory import hosts_yaml
from gourmetops.kubespray.stage import read_records
from tests.node1_home import (
    THREE,
    LocalNode,
    context,
    finished_run,
    grown,
    inventories,
    list_hosts,
)
from tests.test_reset import fab_with_input, state


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("node1", "node1 cannot be removed: it is the jump host, through which every other node "
                  "is reached; and kubespray cannot remove the first node of kube_control_plane "
                  "or etcd (\"Currently you can't remove the first node in your "
                  "kube_control_plane and etcd-master list\", docs/operations/nodes.md)"),
        ("all", None),  # a name: whether it is a node is node1's record's to say
        ("node4,node2", "nodes.remove 'node4,node2': not a node name (like node4)"),
        ("-e x=1", "nodes.remove '-e x=1': not a node name (like node4)"),
    ],
    ids=["jump-host", "a-name", "a-list", "an-option"],
)  # fmt: skip
def test_refused_from_cluster_yaml_alone(name, said):
    if said is None:
        removing.refused(THREE, name)
        return
    with pytest.raises(InputError) as refused:
        removing.refused(THREE, name)
    assert str(refused.value) == said


def test_the_first_control_plane_is_refused_when_it_is_not_the_jump_host():
    cluster = replace(
        THREE, nodes=(THREE.nodes[1], replace(THREE.nodes[0], roles=("kube_node",)), THREE.nodes[2])
    )
    with pytest.raises(
        InputError, match="node2 cannot be removed: kubespray cannot remove the first"
    ):
        removing.refused(cluster, "node2")


def test_a_node_not_in_the_record_is_refused(home, monkeypatch, tmp_path):
    finished_run(home, THREE)
    ctx = context(home, grown(4), monkeypatch, tmp_path)
    _, saved = read_records(ctx, "cluster.yml")
    now, kept = inventories(home)
    with pytest.raises(InputError) as refused:
        removing.plan(ctx, "node4", saved, now, kept)
    assert str(refused.value) == (
        "node4 is not a node of the cluster's last run (node1's record: node1, node2, node3): "
        "nothing to remove"
    )
    with pytest.raises(InputError, match="no finished cluster run is recorded on node1"):
        removing.plan(ctx, "node3", None, now, kept)


def test_remove_node_runs_confirmed_on_the_node_only(home, monkeypatch, tmp_path, checkout):
    """The playbook command, read by the real ansible-playbook against release-2.26's
    remove-node.yml: -e node=node4 makes node4 the only host of its removal plays, and
    skip_confirmation is the variable its "Confirm Execution" pause is skipped by."""
    four = grown(4)
    finished_run(home, four)
    ctx = context(home, four, monkeypatch, tmp_path)
    _, saved = read_records(ctx, "cluster.yml")
    now, kept = inventories(home)
    removal = removing.plan(ctx, "node4", saved, now, kept)
    assert removal.run.command().endswith(
        "--become --become-user=root -e node=node4 -e skip_confirmation=true remove-node.yml"
    )
    plays = list_hosts(home, removal.run.command())
    for play in ("Confirm node removal", "Reset node", "Post node removal"):
        assert plays[play] == ["node4"], play
    source = (checkout / "playbooks" / "remove_node.yml").read_text()
    pause = source.split("name: Confirm Execution")[1].split("- name:")[0]
    assert "- not (skip_confirmation | default(false) | bool)" in pause
    offline = removing.plan(ctx, "node4", saved, now, kept, offline=True)
    assert " -e reset_nodes=false -e allow_ungraceful_removal=true " in offline.run.command()


def run_steps(home: Path, planned) -> None:
    """The plan's steps that write files, run for real in node1's home (the playbook is not)."""
    for _what, step in planned:
        if isinstance(step, str):
            done = LocalNode(home).run(step)
            assert done.exited == 0, done.stderr


def test_a_worker_still_in_cluster_yaml_leaves_the_record_and_the_user_is_told(
    home, monkeypatch, tmp_path, capsys
):
    four = grown(4)
    finished_run(home, four)
    ctx = context(home, four, monkeypatch, tmp_path)
    removing.remove(ctx, "node4", dry=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "would run on node1 (chameleon):"
    assert out[1] == "  1. remove node4 with remove-node.yml -e node=node4:"
    assert out[2].endswith("-e node=node4 -e skip_confirmation=true remove-node.yml")
    assert out[3] == (
        "  2. node1's record: nodes node1, node2, node3; the next `fab up` skips cluster.yml "
        "when cluster.yaml has no node4 and nothing else changed"
    )
    assert len(out) == 4
    _, saved = read_records(ctx, "cluster.yml")
    now, kept = inventories(home)
    removal = removing.plan(ctx, "node4", saved, now, kept)
    run_steps(home, removing.steps(ctx, removal))
    assert removing.told(ctx, removal) == (
        f"nodes.remove: node4 removed from chameleon. Now take node4 out of "
        f"{tmp_path / 'cluster-4.yaml'}: while it is there, `fab up` joins it again"
    )
    # once node4 is out of cluster.yaml and `fab kubespray` wrote hosts.yaml, nothing differs
    (home / "kubespray" / records.HOSTS).write_text(hosts_yaml(THREE))
    current, after = read_records(context(home, THREE, monkeypatch, tmp_path), "cluster.yml")
    assert after is not None and current is not None
    assert after.nodes == ("node1", "node2", "node3")
    assert records.differences(after, current) == []


def test_a_worker_already_out_of_cluster_yaml_is_put_back_then_hosts_yaml_regenerated(
    home, monkeypatch, tmp_path, capsys
):
    """node4 left cluster.yaml and `fab up` rewrote hosts.yaml without it (then stopped):
    the kept copy of the last run's hosts.yaml goes back for remove-node.yml."""
    four = grown(4)
    finished_run(home, four)
    (home / "kubespray" / records.HOSTS).write_text(hosts_yaml(THREE))
    ctx = context(home, THREE, monkeypatch, tmp_path)
    removing.remove(ctx, "node4", dry=True)
    out = [line for line in capsys.readouterr().out.splitlines() if re.match(r"  \d+\. ", line)]
    assert [line.split(" (")[0].split(":")[0] for line in out] == [
        "  1. put the last run's hosts.yaml back on node1",
        "  2. remove node4 with remove-node.yml -e node=node4",
        "  3. regenerate hosts.yaml from cluster.yaml, without node4",
        "  4. node1's record",
    ]
    _, saved = read_records(ctx, "cluster.yml")
    now, kept = inventories(home)
    removal = removing.plan(ctx, "node4", saved, now, kept)
    planned = removing.steps(ctx, removal)
    run_steps(home, planned[:1])  # what remove-node.yml would read
    assert (home / "kubespray" / records.HOSTS).read_text() == hosts_yaml(four)
    run_steps(home, planned[1:])
    assert (home / "kubespray" / records.HOSTS).read_text() == hosts_yaml(THREE)
    assert (home / records.KEPT_INVENTORY).read_text() == hosts_yaml(THREE)
    current, after = read_records(ctx, "cluster.yml")
    assert after is not None and records.differences(after, current) == []
    assert removing.told(ctx, removal) == (
        "nodes.remove: node4 removed from chameleon; hosts.yaml is cluster.yaml's again"
    )


def test_an_etcd_node_removed_makes_the_next_up_run_the_playbook(home, monkeypatch, tmp_path):
    """kubespray's nodes.md: after removing an etcd node, "Run cluster.yml to regenerate the
    configuration files on all remaining nodes"."""
    finished_run(home, THREE)
    ctx = context(home, THREE, monkeypatch, tmp_path)
    _, saved = read_records(ctx, "cluster.yml")
    now, kept = inventories(home)
    removal = removing.plan(ctx, "node3", saved, now, kept)
    assert removal.next_up == (
        "runs cluster.yml again (node3 was a control-plane or etcd node: kubespray's nodes.md "
        "runs cluster.yml)"
    )
    assert removal.record.files == saved.files and removal.record.nodes == ("node1", "node2")


def test_a_node_in_no_inventory_is_refused(home, monkeypatch, tmp_path):
    """A record from before copies were kept, node4 out of cluster.yaml and hosts.yaml."""
    four = grown(4)
    finished_run(home, four)
    (home / records.KEPT_INVENTORY).unlink()
    (home / "kubespray" / records.HOSTS).write_text(hosts_yaml(THREE))
    ctx = context(home, THREE, monkeypatch, tmp_path)
    _, saved = read_records(ctx, "cluster.yml")
    now, kept = inventories(home)
    assert kept is None
    with pytest.raises(InputError) as refused:
        removing.plan(ctx, "node4", saved, now, kept)
    assert str(refused.value).startswith(
        "node4 is in neither node1's hosts.yaml nor the copy kept from the last run"
    )


@pytest.mark.parametrize(
    "text",
    [None, "", "[1, 2]", "all: 3", "a: &x [*x]", "all:\n  hosts: [node1]\n", "x" * 10],
    ids=["absent", "empty", "a-list", "not-a-mapping", "alias", "hosts-a-list", "garbage"],
)
def test_an_inventory_that_is_not_ours_is_none(text):
    assert removing.parse_hosts(text) is None


def test_remove_is_refused_without_the_targets_name():
    """Before anything is contacted: no lock, no log (the Chameleon target's loopback
    floating IP has nothing listening)."""
    before = state("chameleon")
    ran = fab_with_input(None, "nodes.remove", "node3", "--target", "chameleon")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stderr.strip() == (
        "error: removal of node3 from 'chameleon' not confirmed: no input to read; type the "
        "target's name when asked, or pass --yes. Nothing was changed"
    )
    assert "remove-node.yml" in ran.stdout and "ansible-playbook" not in ran.stdout
    assert state("chameleon") == before
    node1 = fab_with_input("chameleon\n", "nodes.remove", "node1", "--target", "chameleon")
    assert node1.returncode == 1 and "Type" not in node1.stdout  # refused before the question
    assert node1.stderr.startswith("error: node1 cannot be removed: it is the jump host")
