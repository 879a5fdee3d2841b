"""Nodes added and removed on a four-node lab: node4 booted beside the three, the cluster
stage run first with cluster.yaml's three nodes (node1's record: node1..node3), then with a
cluster.yaml that has node4 too.

The lab's nodes are offline and run no kubelet: kubespray's scale.yml stops in its
preinstall role on node4 and remove-node.yml at its first kubectl call, so these tests check
what ran (the playbook, -e, --limit, the hosts in each recap), what the stage and the task
said, and node1's record and inventory after each step. The decisions themselves are unit
tested in tests/test_join.py and tests/test_remove_node.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gourmetops import lab as labmod
from gourmetops.cluster import CLUSTER_ENV, load_cluster
from gourmetops.kubespray.recap import parse_recap
from gourmetops.kubespray.record import KEPT_INVENTORY, RECORD
from gourmetops.lab.scaled import scaled_raw
from gourmetops.targets import lab_target
from tests.conftest import CONVERGED
from tests.labtools import Lab

HOSTS = "kubespray/inventory/mycluster/hosts.yaml"


def four_nodes(path: Path, node4_roles: list[str] | None = None) -> dict[str, str]:
    """cluster.yaml with node4 after the three (a worker by kubespray's builder rule, or
    with `node4_roles` and the others' roles as cluster.yaml gives them); its env."""
    raw = scaled_raw(load_cluster(), 4)
    if node4_roles:
        given = {n.name: list(n.roles) for n in load_cluster().nodes}
        for node in raw["nodes"]:
            node["roles"] = node4_roles if node["name"] == "node4" else given[node["name"]]
    path.write_text(json.dumps(raw))
    return {CLUSTER_ENV: str(path)}


def recorded_nodes(lab: Lab) -> list[str] | None:
    out = lab.ssh("node1", f"cat {RECORD}", check=False)
    return json.loads(out.stdout)["nodes"] if out.returncode == 0 else None


def newest_log(lab: Lab, stem: str) -> Path:
    logs = (lab.target.state_dir / "logs").glob(f"{stem}-*.log")
    return max(logs, key=lambda p: p.stat().st_mtime)


@pytest.fixture(scope="module")
def lab4(
    lab: Lab, first_up, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Lab, Path]]:
    """Four nodes running: node1..node3 as the session's first `fab up` left them (the
    three-node cluster installed, its record written; restored from its snapshot), node4
    pristine beside them."""
    where = tmp_path_factory.mktemp("nodes")
    env = four_nodes(where / "cluster-4.yaml")
    target = lab_target(load_cluster(env[CLUSTER_ENV]))
    labmod.down(lab.target)
    labmod.up(target, CONVERGED, pristine=["node4"])
    try:
        assert recorded_nodes(lab) == ["node1", "node2", "node3"]
        yield lab, where
    finally:
        labmod.reset(lab.target)  # node4 stopped too: back to the session's three pristine nodes


def test_a_new_worker_joins_with_scale_limited_to_it(lab4):
    """node4 added to cluster.yaml: prepare and the kubespray stage take node4 in, then
    the cluster stage (dry, then real) runs facts.yml on all four and scale.yml --limit
    node4, which stops on node4 (offline) and leaves no record behind."""
    lab, where = lab4
    env = four_nodes(where / "cluster-4.yaml")
    # prepare takes node4 in (its key, firewalld stopped: the pre-checks pass), and the
    # kubespray stage writes hosts.yaml with it
    taken_in = lab.fab("up", "--target", "lab", "--to", "kubespray", env=env)
    assert taken_in.returncode == 0, taken_in.stdout[-4000:]
    assert "node4:" in lab.out("node1", f"cat {HOSTS}")
    dry = lab.fab("up", "--target", "lab", "--from", "cluster", "--to", "cluster", "--dry", env=env)
    assert "==> cluster: would join node4 with scale.yml --limit node4 (nothing else" in (
        dry.stdout
    ), dry.stdout[-3000:]
    assert "--become --become-user=root --limit node4 scale.yml" in dry.stdout

    # --retries 0: one attempt (node4 is offline, so every rerun would fail the same way)
    ran = lab.fab(
        "up", "--target", "lab", "--from", "cluster", "--to", "cluster", "--retries", "0", env=env
    )
    assert ran.returncode == 1, ran.stdout[-4000:]
    assert "==> cluster: join node4 with scale.yml --limit node4 (nothing else" in ran.stdout
    assert "==> cluster: refresh every node's facts" in ran.stdout
    facts = parse_recap(newest_log(lab, "facts").read_text())
    assert sorted(facts) == ["node1", "node2", "node3", "node4"]
    assert all(h.healthy for h in facts.values())
    scale = parse_recap(newest_log(lab, "scale").read_text())
    assert sorted(scale) == ["node4"]  # --limit node4: no other node was touched
    last = ran.stdout.strip().splitlines()[-1]
    assert last.startswith(
        "cluster failed on target lab (join node4 with scale.yml --limit node4): scale.yml "
        "failed after 1 attempt(s): "
    ), last
    assert "node4" in last
    assert recorded_nodes(lab) is None  # forgotten before the run: the next `fab up` runs again


def test_a_control_plane_node_joins_with_the_cluster_playbook_and_is_recorded(lab4):
    """node4 as a control plane: the cluster playbook on every node (the lab's stands in
    for cluster.yml and succeeds), then the record lists node4 and the next `fab up`
    skips the stage."""
    lab, where = lab4
    three = lab.fab("up", "--target", "lab", "--from", "kubespray", "--to", "cluster")
    assert three.returncode == 0 and recorded_nodes(lab) == ["node1", "node2", "node3"]
    env = four_nodes(where / "cluster-4cp.yaml", ["kube_control_plane", "kube_node"])
    ran = lab.fab("up", "--target", "lab", "--from", "kubespray", "--to", "cluster", env=env)
    assert ran.returncode == 0, ran.stdout[-4000:]
    assert (
        "==> cluster: running playbooks/facts.yml: join node4 with playbooks/facts.yml, not "
        "scale.yml: a control-plane or etcd node (node4) joins with cluster.yml" in ran.stdout
    )
    assert sorted(parse_recap(newest_log(lab, "facts").read_text())) == [
        "node1", "node2", "node3", "node4",
    ]  # fmt: skip
    assert recorded_nodes(lab) == ["node1", "node2", "node3", "node4"]
    assert "node4:" in lab.out("node1", f"cat {KEPT_INVENTORY}")
    again = lab.fab("up", "--target", "lab", "--from", "cluster", "--to", "cluster", env=env)
    assert "==> cluster: unchanged since " in again.stdout and ", 4 nodes, " in again.stdout


def test_remove_node_runs_confirmed_on_the_node_and_keeps_the_record_when_it_fails(lab4):
    """After the test above (node4 joined as a control plane and recorded): node1 refused;
    node4 removed with remove-node.yml -e node=node4, confirmed (its pause skipped), which
    stops at kubectl (no Kubernetes in the lab); the record still lists node4, so the
    removal can be run again."""
    lab, where = lab4
    env = {CLUSTER_ENV: str(where / "cluster-4cp.yaml")}
    assert recorded_nodes(lab) == ["node1", "node2", "node3", "node4"], "run the module whole"
    node1 = lab.fab("nodes.remove", "node1", "--target", "lab", "--yes", env=env)
    assert node1.returncode == 1
    assert "error: node1 cannot be removed: it is the jump host" in node1.stdout

    ran = lab.fab("nodes.remove", "node4", "--target", "lab", "--yes", env=env)
    assert ran.returncode == 1, ran.stdout[-4000:]
    assert "-e node=node4 -e skip_confirmation=true remove-node.yml" in ran.stdout
    assert "runs playbooks/facts.yml again (node4 was a control-plane or etcd node" in ran.stdout
    text = newest_log(lab, "remove-node").read_text()
    assert "Delete nodes confirmation failed" not in text
    assert "PLAY [Reset node]" in text and "Remove-node | List nodes" in text
    assert sorted(parse_recap(text)) == ["node1", "node2", "node3", "node4"]  # facts.yml: all
    last = ran.stdout.strip().splitlines()[-1]
    assert last.startswith("removing node4 failed on target lab: remove-node.yml failed after 1")
    assert "`fab nodes.remove node4 --target lab` runs it again" in last
    assert recorded_nodes(lab) == ["node1", "node2", "node3", "node4"]


def test_a_node_gone_from_cluster_yaml_stops_up_and_its_removal_puts_the_inventory_back(lab4):
    """cluster.yaml without node4 again: `fab up` writes hosts.yaml without it, then stops
    naming `fab nodes.remove node4`; the removal's plan puts the last run's hosts.yaml back
    first (node4 in it) and regenerates hosts.yaml after; the playbook stops at kubectl, so
    node1 keeps the put-back inventory and the record keeps node4."""
    lab, _ = lab4
    assert recorded_nodes(lab) == ["node1", "node2", "node3", "node4"], "run the module whole"
    up = lab.fab("up", "--target", "lab", "--from", "kubespray", "--to", "cluster")
    assert up.returncode == 1
    assert up.stdout.strip().splitlines()[-1] == (
        "node4 left cluster.yaml but the cluster's last run had it as nodes: run `fab "
        "nodes.remove node4 --target lab` (kubespray's remove-node.yml drains and removes it), "
        "or put node4 back in cluster.yaml"
    )
    assert "node4:" not in lab.out("node1", f"cat {HOSTS}")
    dry = lab.fab("nodes.remove", "node4", "--target", "lab", "--dry")
    assert dry.returncode == 0, dry.stdout[-3000:]
    steps = [line for line in dry.stdout.splitlines() if re.match(r"  \d+\. ", line)]
    assert [s.split(" (")[0].split(":")[0] for s in steps] == [
        "  1. put the last run's hosts.yaml back on node1",
        "  2. remove node4 with remove-node.yml -e node=node4",
        "  3. regenerate hosts.yaml from cluster.yaml, without node4",
        "  4. node1's record",
    ]
    ran = lab.fab("nodes.remove", "node4", "--target", "lab", "--yes")
    assert ran.returncode == 1, ran.stdout[-4000:]
    assert "node4:" in lab.out("node1", f"cat {HOSTS}")  # put back; not regenerated: it failed
    assert recorded_nodes(lab) == ["node1", "node2", "node3", "node4"]
