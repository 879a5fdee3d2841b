"""node1's side for the day-two tests (tests/test_join.py, tests/test_remove_node.py): a
throwaway home with a kubespray checkout laid out as on node1 (the real release-2.26 files,
symlinked, with our inventory). The record's commands and the steps that write files run
there for real in bash; playbook commands are run by the real ansible-playbook with
--list-hosts, which shows the hosts each play would touch. What stands in: `LocalNode`, for
the SSH connection to node1 (none can be made here), running each command in that home."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from invoke.runners import Result

from gourmetops.cluster import Cluster, load_cluster, parse_cluster
from gourmetops.context import RunContext
from gourmetops.kubespray import record as records
from gourmetops.kubespray.checkout import controller_checkout
from gourmetops.kubespray.inventory import hosts_yaml
from gourmetops.lab.scaled import scaled_raw
from tests.kubespray_source import KUBESPRAY

VENV_PLAYBOOK = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "ansible-playbook"


def grown(count: int, node4_roles: list[str] | None = None) -> Cluster:
    """cluster.yaml grown to `count` nodes as `fab lab.scale` writes it (roles by kubespray's
    builder rule: node4 a worker), or with node4's roles given (and the others' as now)."""
    raw = scaled_raw(load_cluster(), count)
    if node4_roles:
        given = {n.name: list(n.roles) for n in load_cluster().nodes}
        for node in raw["nodes"]:
            node["roles"] = node4_roles if node["name"] == "node4" else given[node["name"]]
    return parse_cluster(raw, f"cluster-{count}.yaml")


THREE = grown(3)


class LocalNode:
    """Stands in for Fabric's connection to node1: each command run by bash in `home`, as
    node1's login shell runs it from the home directory."""

    original_host = "node1"

    def __init__(self, home: Path) -> None:
        self.home = home

    def run(self, command: str, **_: object) -> Result:
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=self.home,
            env={**os.environ, "HOME": str(self.home)},
            capture_output=True,
            text=True,
        )
        return Result(stdout=proc.stdout, stderr=proc.stderr, exited=proc.returncode)


def kubespray_checkout() -> Path:
    return controller_checkout(KUBESPRAY, "release-2.26")


def make_home(tmp_path: Path, checkout: Path) -> Path:
    """node1's home as the kubespray stage leaves it for three nodes: kubespray/ (a git
    checkout, the real release-2.26 files linked in), inventory/mycluster with the sample's
    group_vars and our hosts.yaml, and myenv/bin/ansible-playbook."""
    ks = tmp_path / "kubespray"
    ks.mkdir()
    for entry in checkout.iterdir():
        if entry.name not in ("inventory", ".git"):
            (ks / entry.name).symlink_to(entry)
    shutil.copytree(checkout / "inventory" / "sample", ks / "inventory" / "mycluster")
    (ks / records.HOSTS).write_text(hosts_yaml(THREE))
    git = ["git", "-C", str(ks), "-c", "user.name=t", "-c", "user.email=t@lab"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "release"], check=True)
    (tmp_path / "myenv" / "bin").mkdir(parents=True)
    (tmp_path / "myenv" / "bin" / "ansible-playbook").symlink_to(VENV_PLAYBOOK)
    return tmp_path


def context(
    home: Path, cluster: Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> RunContext:
    """The Chameleon target with `cluster` as cluster.yaml, its node1 a LocalNode in `home`."""
    path = tmp_path / f"{cluster.source}"
    raw = scaled_raw(cluster, len(cluster.nodes))
    for node, model in zip(raw["nodes"], cluster.nodes, strict=True):
        node["roles"] = list(model.roles)
    path.write_text(json.dumps(raw))
    monkeypatch.setenv("GOURMETOPS_CLUSTER", str(path))
    monkeypatch.setenv("GOURMETOPS_FLOATING_IP", "127.0.0.10")
    ctx = RunContext("chameleon")
    ctx._connections["node1"] = LocalNode(home)  # type: ignore[assignment]
    return ctx


def finished_run(home: Path, cluster: Cluster) -> records.Record:
    """node1 as after a finished cluster.yml for `cluster`: hosts.yaml, record, kept copy."""
    (home / "kubespray" / records.HOSTS).write_text(hosts_yaml(cluster))
    node = LocalNode(home)
    current, _ = records.parse(
        node.run(records.read_command("kubespray")).stdout,
        "cluster.yml",
        tuple(n.name for n in cluster.nodes),
    )
    assert current is not None
    assert node.run(records.save_command(current, "kubespray")).exited == 0
    return current


def list_hosts(home: Path, command: str) -> dict[str, list[str]]:
    """Play name -> the hosts it would run on: the real ansible-playbook's --list-hosts of
    `command` (the exact command the stage sends to node1)."""
    out = LocalNode(home).run(command + " --list-hosts")
    assert out.exited == 0, out.stderr[-2000:]
    plays: dict[str, list[str]] = {}
    hosts: list[str] = []
    for line in out.stdout.splitlines():
        play = re.match(r"  play #\d+ \(.*\): (.*?)\tTAGS", line)
        if play:
            hosts = plays.setdefault(play[1], [])
        elif line.startswith(" " * 6) and line.strip():
            hosts.append(line.strip())
    return plays


def inventories(home: Path) -> tuple[str | None, str | None]:
    """node1's hosts.yaml and the kept copy, read with the command nodes.remove sends."""
    out = LocalNode(home).run(records.inventory_command("kubespray")).stdout
    return records.parse_inventories(out)


# Fixtures for the modules that use this home (conftest loads this file as a plugin).
@pytest.fixture(scope="module")
def checkout() -> Path:
    """kubespray release-2.26 on the controller, once per module."""
    return kubespray_checkout()


@pytest.fixture
def home(tmp_path: Path, checkout: Path) -> Path:
    """A throwaway node1 home with that checkout's files linked in."""
    return make_home(tmp_path, checkout)
