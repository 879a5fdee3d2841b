"""The cluster stage's record on node1 (gourmetops/kubespray/record.py): its commands run
for real in a shell, in a throwaway home with a git checkout laid out as kubespray's, and
what they print read back; and which changes make `fab up` run kubespray again."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gourmetops.kubespray import readiness
from gourmetops.kubespray import record as records

NODES = ("node1", "node2", "node3")
FIXTURES = Path(__file__).parent / "fixtures" / "kubernetes"


def sh(home: Path, command: str) -> str:
    """`command` as node1's login shell would run it: from the home directory."""
    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=home,
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with `kubespray/` as the kubespray stage leaves it: a git checkout with the
    inventory (hosts.yaml, group_vars) under inventory/mycluster."""
    ks = tmp_path / "kubespray"
    inv = ks / "inventory" / "mycluster"
    (inv / "group_vars" / "k8s_cluster").mkdir(parents=True)
    (inv / "hosts.yaml").write_text("all:\n  hosts:\n    node1: {}\n")
    (inv / "group_vars" / "k8s_cluster" / "k8s-cluster.yml").write_text("kube_version: v1.30.4\n")
    (inv / "credentials").mkdir()  # kubespray writes here during a run: not part of the record
    git = ["git", "-C", str(ks), "-c", "user.name=t", "-c", "user.email=t@lab"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "release"], check=True)
    return tmp_path


def read(home: Path, playbook: str = "cluster.yml", nodes=NODES):
    return records.parse(sh(home, records.read_command("kubespray")), playbook, nodes)


def test_nothing_recorded_before_a_run_then_the_same_after_it(home: Path):
    current, saved = read(home)
    assert saved is None and current is not None
    assert sorted(current.files) == [
        "inventory/mycluster/group_vars/k8s_cluster/k8s-cluster.yml",
        "inventory/mycluster/hosts.yaml",
    ]
    sh(home, records.save_command(current, "kubespray"))
    again, saved = read(home)
    assert saved == current == again and saved is not None
    assert saved.finished.endswith(" UTC")
    assert records.differences(saved, again) == []
    # kubespray writes credentials into the inventory while it runs: not a change
    (home / "kubespray/inventory/mycluster/credentials/kubeadm_certificate_key.creds").write_text(
        "x"
    )
    assert records.differences(saved, read(home)[0]) == []


def test_each_change_is_named(home: Path):
    current, _ = read(home)
    sh(home, records.save_command(current, "kubespray"))
    vars_file = home / "kubespray/inventory/mycluster/group_vars/k8s_cluster/k8s-cluster.yml"
    vars_file.write_text("kube_version: v1.30.5\n")
    subprocess.run(
        ["git", "-C", str(home / "kubespray"), "-c", "user.name=t", "-c", "user.email=t@lab",
         "commit", "-q", "--allow-empty", "-m", "newer"],
        check=True,
    )  # fmt: skip
    now, saved = read(home, "scale.yml", ("node1", "node2", "node4"))
    changed = records.differences(saved, now)
    assert changed[0].startswith("kubespray ") and " -> " in changed[0]
    assert changed[1:] == [
        "playbook cluster.yml -> scale.yml",
        "nodes +node4 -node3",
        "group_vars/k8s_cluster/k8s-cluster.yml edited",
    ]


def test_no_checkout_means_nothing_to_compare(tmp_path: Path):
    assert read(tmp_path) == (None, None)


@pytest.mark.parametrize(
    "planted",
    ["not json", '{"kubespray": "abc"}', "[1, 2]", "x" * (records.MAX_RECORD_BYTES + 10)],
    ids=["garbage", "fields-missing", "not-an-object", "too-large"],
)
def test_a_record_that_is_not_ours_means_run_again(home: Path, planted: str):
    (home / records.RECORD_DIR).mkdir(parents=True)
    (home / records.RECORD).write_text(planted)
    assert read(home)[1] is None


def test_the_record_replaces_a_planted_link_instead_of_writing_through_it(home: Path):
    victim = home / "victim"
    victim.write_text("precious\n")
    (home / records.RECORD_DIR).mkdir(parents=True)
    (home / records.RECORD).symlink_to(victim)
    current, _ = read(home)
    sh(home, records.save_command(current, "kubespray"))
    assert victim.read_text() == "precious\n"
    assert not (home / records.RECORD).is_symlink()
    assert read(home)[1] == current
    sh(home, records.forget_command())
    assert read(home)[1] is None


def test_nodes_ready_at_the_wanted_version_or_what_is_not():
    states = readiness.node_states((FIXTURES / "nodes-node3-notready.json").read_text())
    assert readiness.summary(states, ["node1", "node2"], "v1.30.4") == (
        True,
        "2 nodes Ready at v1.30.4",
    )
    assert readiness.summary(states, ["node1", "node2"], "v1.31.1") == (
        False,
        "kube_version is v1.31.1, but node1 at v1.30.4, node2 at v1.30.4",
    )
    assert readiness.summary(states, list(NODES), None) == (
        False,
        "not every node is Ready: node3 (NotReady)",
    )
