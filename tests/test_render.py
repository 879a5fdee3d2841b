"""`fab render`: every generated artifact written for review, no host contacted (the
Chameleon target is rendered with loopback placeholder addresses, so even a regression
could not send a packet off this machine)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import Ran
from tests.cli import fab as run_fab
from tests.kubespray_source import KUBESPRAY

EXPECTED = {
    "ssh_config",
    "docker/daemon.json",
    "kubespray/inventory/mycluster/hosts.yaml",
    "kubespray/inventory/mycluster/group_vars/k8s_cluster/k8s-cluster.yml",
    "kubespray/inventory/mycluster/group_vars/k8s_cluster/addons.yml",
    "manifests/namespace.yaml",
    "manifests/service.yaml",
    "manifests/deployment.yaml",
    "manifests/hpa.yaml",
}


def fab(*args: str, env: dict[str, str] | None = None) -> Ran:
    return run_fab(*args, env=env)


def written(out: Path) -> set[str]:
    """The artefacts, without the marker render leaves so it may write there again."""
    return {
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.is_file() and p.name != ".gourmetops-render"
    }


def test_render_chameleon_plan(tmp_path):
    out = tmp_path / "plan"
    result = fab(
        "render",
        "--out",
        str(out),
        "--target",
        "chameleon",
        "--kubespray-source",
        KUBESPRAY,
        env={
            "GOURMETOPS_FLOATING_IP": "127.0.0.10",
            "GOURMETOPS_NODE1_PUBLIC_ADDRESS": "127.0.0.8",
        },
    )
    assert result.code == 0, result.out
    assert written(out) == EXPECTED
    ssh_config = (out / "ssh_config").read_text()
    assert "HostName 127.0.0.10" in ssh_config
    assert "Host node2\n    HostName 192.168.1.12\n    ProxyJump node1" in ssh_config
    hosts = (out / "kubespray/inventory/mycluster/hosts.yaml").read_text()
    assert "ansible_host: 192.168.1.13" in hosts
    daemon = json.loads((out / "docker/daemon.json").read_text())
    assert daemon == {"insecure-registries": ["node1:5000"]}
    k8s = out / "kubespray/inventory/mycluster/group_vars/k8s_cluster/k8s-cluster.yml"
    assert "\ncontainer_manager: docker\n" in k8s.read_text()
    assert "externalIPs:\n  - 127.0.0.8\n" in (out / "manifests/service.yaml").read_text()


def test_render_chameleon_without_node1_public_address_says_which_setting(tmp_path):
    result = fab(
        "render",
        "--out",
        str(tmp_path),
        "--target",
        "chameleon",
        "--kubespray-source",
        KUBESPRAY,
        env={"GOURMETOPS_FLOATING_IP": "127.0.0.10", "GOURMETOPS_NODE1_PUBLIC_ADDRESS": ""},
    )
    assert result.code == 1
    assert "GOURMETOPS_NODE1_PUBLIC_ADDRESS" in result.out and "not the floating IP" in result.out


def test_render_lab_plan_uses_lab_addresses(tmp_path):
    result = fab("render", "--out", str(tmp_path), "--target", "lab")
    assert result.code == 0, result.out
    assert written(tmp_path) == EXPECTED
    assert (
        "ansible_host: 10.254.1.12"
        in (tmp_path / "kubespray/inventory/mycluster/hosts.yaml").read_text()
    )


def test_render_without_floating_ip_is_a_clear_error(tmp_path):
    env = {"GOURMETOPS_FLOATING_IP": "", "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent.yaml"}
    result = fab("render", "--out", str(tmp_path), "--target", "chameleon", env=env)
    assert result.code == 1
    assert "no floating IP for node1" in result.out
    assert "Traceback" not in result.out
    assert written(tmp_path) == set()
