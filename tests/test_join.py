"""A node added to cluster.yaml joins with `fab up` (gourmetops/kubespray/join.py): scale.yml
limited to a new worker after facts.yml on every node, cluster.yml for a control-plane or
etcd node or when more changed, decided from node1's record (tests/node1_home.py: node1 is
a throwaway home where the commands run for real; only the SSH connection is stood in for,
and the playbooks are listed by the real ansible-playbook, not run: they run on the lab in
tests/test_nodes_lab.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gourmetops.kubespray import join as joining
from gourmetops.kubespray import record as records
from gourmetops.kubespray.inventory import hosts_yaml
from gourmetops.kubespray.stage import cluster_unless_unchanged
from tests.node1_home import (
    THREE,
    LocalNode,
    context,
    finished_run,
    grown,
    list_hosts,
)


def test_a_new_worker_joins_with_scale_limited_to_it(home: Path):
    saved = finished_run(home, THREE)
    four = grown(4)
    (home / "kubespray" / records.HOSTS).write_text(hosts_yaml(four))
    current, again = records.parse(
        LocalNode(home).run(records.read_command("kubespray")).stdout,
        "cluster.yml",
        ("node1", "node2", "node3", "node4"),
    )
    assert again == saved and current is not None
    join, why = joining.plan(four, saved, current, "cluster.yml")
    assert join == joining.Join(("node4",))
    assert (
        why
        == f"join node4 with scale.yml --limit node4 (nothing else changed since {saved.finished})"
    )


def test_a_new_control_plane_or_etcd_node_joins_with_the_cluster_playbook(home: Path):
    saved = finished_run(home, THREE)
    four = grown(4, ["kube_control_plane", "kube_node"])
    current = replace(saved, nodes=("node1", "node2", "node3", "node4"))
    join, why = joining.plan(four, saved, current, "cluster.yml")
    assert join is None
    assert why == (
        "join node4 with cluster.yml, not scale.yml: a control-plane or etcd node (node4) joins "
        "with cluster.yml, as kubespray's docs/operations/nodes.md says (\"You can NOT use "
        'scale.yml for that")'
    )


def test_a_worker_with_other_changes_joins_with_the_cluster_playbook(home: Path):
    """scale.yml --limit node4 would leave the other changes undone on the other nodes."""
    saved = finished_run(home, THREE)
    four = grown(4)
    (home / "kubespray" / records.HOSTS).write_text(hosts_yaml(four))
    addons = home / "kubespray/inventory/mycluster/group_vars/k8s_cluster/addons.yml"
    addons.write_text(addons.read_text() + "helm_enabled: true\n")
    nodes = ("node1", "node2", "node3", "node4")
    current, _ = records.parse(
        LocalNode(home).run(records.read_command("kubespray")).stdout, "cluster.yml", nodes
    )
    join, why = joining.plan(four, saved, current, "cluster.yml")
    assert join is None
    assert why == (
        f"join node4 with cluster.yml, not scale.yml: besides them, changed since "
        f"{saved.finished}: group_vars/k8s_cluster/addons.yml edited"
    )
    # another node's line moved in hosts.yaml (node3 readdressed) counts too
    moved = replace(
        four,
        nodes=(
            *four.nodes[:2],
            replace(four.nodes[2], address=four.nodes[3].address + 1),
            four.nodes[3],
        ),
    )
    current = replace(
        current, files={**saved.files, records.HOSTS: joining.sha256(hosts_yaml(moved))}
    )
    assert joining.plan(moved, saved, current, "cluster.yml")[1].endswith(": hosts.yaml edited")


def test_scale_is_limited_to_the_new_node_after_facts_on_every_node(home, monkeypatch, tmp_path):
    """The two commands of the plan, as the real ansible-playbook reads them against the real
    release-2.26 scale.yml: facts.yml gathers every node's facts (kubespray's docs ask for it
    before --limit), then every play of scale.yml touches node4 only."""
    four = grown(4)
    (home / "kubespray" / records.HOSTS).write_text(hosts_yaml(four))
    ctx = context(home, four, monkeypatch, tmp_path)
    (facts_said, facts), (scale_said, scale) = joining.runs(ctx, joining.Join(("node4",)))
    assert facts.prelude == records.forget_command() and not facts.limit
    assert scale_said == "join node4 with scale.yml --limit node4"
    assert scale.command().endswith("--become --become-user=root --limit node4 scale.yml")
    every = ["node1", "node2", "node3", "node4"]
    assert sorted(list_hosts(home, facts.command().split(" && ", 1)[1])["Gather facts"]) == every
    touched = {h for hosts in list_hosts(home, scale.command()).values() for h in hosts}
    assert touched == {"node4"}


def test_up_says_the_join_it_would_run(home, monkeypatch, tmp_path, capsys):
    """`fab up`'s cluster stage, dry, on node1 after a three-node run with node4 now in
    cluster.yaml (and in hosts.yaml, as `fab kubespray` writes it)."""
    finished_run(home, THREE)
    four = grown(4)
    (home / "kubespray" / records.HOSTS).write_text(hosts_yaml(four))
    ctx = context(home, four, monkeypatch, tmp_path)
    assert cluster_unless_unchanged(ctx, dry=True) is None
    out = capsys.readouterr().out
    first, *rest = out.splitlines()
    assert first.startswith("==> cluster: would join node4 with scale.yml --limit node4 (nothing")
    assert rest[0] == "would run on node1 (chameleon), each up to 3 time(s):"
    assert rest[1].startswith("  1. refresh every node's facts")
    assert rest[2].strip().startswith("rm -f .local/state/gourmetops/cluster.json && cd ")
    assert rest[2].endswith("playbooks/facts.yml")
    assert rest[3] == "  2. join node4 with scale.yml --limit node4:"
    assert rest[4].endswith("--limit node4 scale.yml") and len(rest) == 5
