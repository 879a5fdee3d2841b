"""The inventories as pyinfra loads them. The Chameleon one is checked without connecting
(pyinfra's --dry still connects to gather facts, and no Chameleon node is reachable here):
loaded with a loopback placeholder floating IP (127.0.0.10): a regression cannot send a
packet off this machine.

pyinfra's CLI loads them in a process of its own (LOADER): importing pyinfra_cli patches the
whole process with gevent, which would stall every threaded test after it in pytest's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gourmetops import PROJECT_ROOT
from gourmetops.pyinfra_run import pyinfra_command
from gourmetops.settings import host_settings
from tests.cli import fab

PLACEHOLDER_IP = "127.0.0.10"


@pytest.fixture
def in_project(monkeypatch):
    monkeypatch.chdir(PROJECT_ROOT)
    monkeypatch.delenv("GOURMETOPS_FLOATING_IP", raising=False)
    monkeypatch.setenv("GOURMETOPS_CHAMELEON_CONFIG", "/nonexistent/chameleon.local.yaml")


LOADER = """
import json, sys
from pyinfra.api import State
from pyinfra.context import ctx_state
from pyinfra_cli.inventory import make_inventory
with ctx_state.use(State()):
    inventory = make_inventory(sys.argv[1], cwd=sys.argv[2])
print(json.dumps({
    "groups": {g: [h.name for h in hosts] for g, hosts in inventory.groups.items()},
    "hosts": {h.name: h.data.dict() for h in inventory},
}))
"""


class Data(dict):
    """A host's data as pyinfra's `host.data` reads: attributes and .get()."""

    def __getattr__(self, key: str) -> Any:
        return self[key]


@dataclass
class Host:
    name: str
    data: Data


class Inventory:
    def __init__(self, loaded: dict[str, Any]) -> None:
        self.hosts = {n: Host(n, Data(d)) for n, d in loaded["hosts"].items()}
        self.groups = loaded["groups"]

    def get_group(self, name: str) -> list[Host]:
        return [self.hosts[n] for n in self.groups[name]]

    def get_host(self, name: str) -> Host:
        return self.hosts[name]

    def __iter__(self):
        return iter(self.hosts.values())


def load(name: str) -> Inventory:
    """As the pyinfra CLI loads an inventory (it runs the file inside a State context)."""
    proc = subprocess.run(
        [sys.executable, "-c", LOADER, f"inventories/{name}.py", str(PROJECT_ROOT)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Inventory(json.loads(proc.stdout))


def test_chameleon_inventory_groups_data_and_ssh_config(in_project, monkeypatch):
    monkeypatch.setenv("GOURMETOPS_FLOATING_IP", PLACEHOLDER_IP)
    inventory = load("chameleon")
    groups = {
        g: sorted(h.name for h in inventory.get_group(g)) for g in ("head", "workers", "chameleon")
    }
    assert groups == {
        "head": ["node1"],
        "workers": ["node2", "node3"],
        "chameleon": ["node1", "node2", "node3"],
    }
    node2 = inventory.get_host("node2")
    assert node2.data.private_address == "192.168.1.12"
    assert node2.data.kube_roles == ["kube_control_plane", "kube_node", "etcd"]
    assert node2.data.docker_packages[0] == "docker-ce"  # group_data/all.py applies
    assert node2.data.apt_update_offline_ok is False  # group_data/lab.py does not
    ssh_config = Path(node2.data.ssh_config_file).read_text()
    assert f"Host node1\n    HostName {PLACEHOLDER_IP}\n" in ssh_config
    assert "Host node2\n    HostName 192.168.1.12\n    ProxyJump node1\n" in ssh_config
    assert "Host node3\n    HostName 192.168.1.13\n    ProxyJump node1\n" in ssh_config


def test_chameleon_floating_ip_from_config_file(in_project, monkeypatch, tmp_path):
    config = tmp_path / "chameleon.local.yaml"
    config.write_text(f"floating_ip: {PLACEHOLDER_IP}\n")
    monkeypatch.setenv("GOURMETOPS_CHAMELEON_CONFIG", str(config))
    node1 = load("chameleon").get_host("node1")
    assert f"HostName {PLACEHOLDER_IP}" in Path(node1.data.ssh_config_file).read_text()


def test_lab_inventory_uses_lab_addresses_and_data(in_project, lab):
    """On the running lab: its inventory refuses to load while the lab is down (its
    addresses would route out of this machine; tests/test_lab.py)."""
    inventory = load("lab")
    assert sorted(h.name for h in inventory.get_group("lab")) == ["node1", "node2", "node3"]
    node3 = inventory.get_host("node3")
    assert node3.data.private_address == "10.254.1.13"
    assert node3.data.apt_update_offline_ok is True


def test_fabric_settings_read_what_pyinfra_gives_every_host(in_project, monkeypatch):
    """Fabric tasks read group_data without pyinfra_cli (its gevent patching stalls Fabric);
    for every host and key they must see exactly the values pyinfra's deploys see."""
    monkeypatch.setenv("GOURMETOPS_FLOATING_IP", PLACEHOLDER_IP)
    _same_settings_as_pyinfra("chameleon")


def test_fabric_settings_read_what_pyinfra_gives_every_lab_host(in_project, lab):
    """The same for the lab, on the running lab (its inventory needs it)."""
    _same_settings_as_pyinfra("lab")


def _same_settings_as_pyinfra(target: str) -> None:
    inventory = load(target)
    for host in inventory:
        ours = host_settings(target, host.name).model_dump()
        theirs = {key: host.data.get(key) for key in ours}
        assert ours == theirs, host.name
        assert {"kubespray_source", "registry", "cluster_playbook"} <= set(ours)


def run_cli(env_changes: dict[str, str], target: str = "chameleon") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GOURMETOPS_FLOATING_IP"}
    env["GOURMETOPS_CHAMELEON_CONFIG"] = "/nonexistent/chameleon.local.yaml"
    env.update(env_changes)
    return subprocess.run(
        pyinfra_command(target, "prepare", dry=True),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no floating IP for node1: set GOURMETOPS_FLOATING_IP"),
        (
            {"GOURMETOPS_FLOATING_IP": "1.2.3"},
            "GOURMETOPS_FLOATING_IP='1.2.3' is not an IPv4 address",
        ),
        (
            # a name, not an address; localhost, so even a regression resolves nothing outside
            {"GOURMETOPS_FLOATING_IP": "localhost"},
            "GOURMETOPS_FLOATING_IP='localhost' is not an IPv4 address",
        ),
    ],
)
def test_cli_refuses_missing_or_malformed_floating_ip(env, message):
    proc = run_cli(env)
    assert proc.returncode != 0
    assert message in proc.stdout
    assert "Connecting to hosts" not in proc.stdout
    assert "--> pyinfra error in " in proc.stdout and "Traceback" not in proc.stdout


def test_cli_refuses_duplicate_node_names(tmp_path):
    bad = tmp_path / "cluster.yaml"
    bad.write_text(
        (PROJECT_ROOT / "cluster.yaml").read_text().replace("name: node2", "name: node1")
    )
    proc = run_cli({"GOURMETOPS_CLUSTER": str(bad), "GOURMETOPS_FLOATING_IP": PLACEHOLDER_IP})
    assert proc.returncode != 0
    assert f"{bad}: duplicate node name 'node1'" in proc.stdout
    assert "Connecting to hosts" not in proc.stdout
    assert "--> pyinfra error in " in proc.stdout and "Traceback" not in proc.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "floating_ip: [1.2\n",
            "not valid YAML: line 2, column 1: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "floating_ip: 127.0.0.10\nnode1_public_adress: 127.0.0.8\n",
            "unknown key 'node1_public_adress'; did you mean 'node1_public_address'?",
        ),
        ("floating_ip: 10.1\n", "floating_ip: must be a string, not 10.1 (quote it in YAML)"),
        ("- 127.0.0.10\n", "must be a mapping, not ['127.0.0.10']"),
    ],
    ids=["not-yaml", "typo", "number", "list"],
)
def test_chameleon_config_that_is_not_yaml_or_has_a_typo(tmp_path, text, message):
    config = tmp_path / "chameleon.local.yaml"
    config.write_text(text)
    env = {"GOURMETOPS_FLOATING_IP": None, "GOURMETOPS_CHAMELEON_CONFIG": str(config)}
    ran = fab("prepare", "--target", "chameleon", "--dry", env=env)
    assert (ran.code, ran.out.strip()) == (1, f"error: {config}: {message}")
