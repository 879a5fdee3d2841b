"""kubespray's inventory as we generate it, checked against kubespray itself: its own
contrib/inventory_builder/inventory.py (run for real from the release-2.26 bundle) and the
sample group_vars of the same checkout. No node is involved."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

from gourmetops.cluster import load_cluster
from gourmetops.kubespray.checkout import controller_checkout
from gourmetops.kubespray.inventory import (
    TUTORIAL_GROUP_VARS,
    KubesprayConfigError,
    cluster_from_addresses,
    edit_yaml_text,
    hosts_yaml,
    render_group_vars,
)
from gourmetops.kubespray.overrides import merged_overrides, node_files
from tests.kubespray_source import KUBESPRAY


@pytest.fixture(scope="module")
def checkout() -> Path:
    return controller_checkout(KUBESPRAY, "release-2.26")


def builder_output(checkout: Path, addresses: list[str], tmp_path: Path) -> str:
    out = tmp_path / "hosts.yaml"
    subprocess.run(
        [sys.executable, "contrib/inventory_builder/inventory.py", *addresses],
        cwd=checkout,
        env={"CONFIG_FILE": str(out), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    return out.read_text()


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]


@pytest.mark.parametrize("count", [1, 3, 5])
def test_hosts_yaml_is_what_kubesprays_builder_writes(checkout, tmp_path, count):
    addresses = [f"192.168.1.{11 + i}" for i in range(count)]
    expected = builder_output(checkout, addresses, tmp_path)
    assert hosts_yaml(cluster_from_addresses(addresses)) == expected


def test_cluster_yaml_gives_the_tutorials_inventory(checkout, tmp_path):
    """cluster.yaml's roles are the ones the tutorial's builder command chose."""
    expected = builder_output(checkout, ["192.168.1.11", "192.168.1.12", "192.168.1.13"], tmp_path)
    assert hosts_yaml(load_cluster()) == expected


def test_tutorial_edits_change_exactly_two_lines(checkout):
    sample = checkout / "inventory" / "sample"
    rendered = render_group_vars(sample, TUTORIAL_GROUP_VARS)
    k8s = "group_vars/k8s_cluster/k8s-cluster.yml"
    addons = "group_vars/k8s_cluster/addons.yml"
    assert changed_lines((sample / k8s).read_text(), rendered[k8s]) == [
        "-container_manager: containerd",
        "+container_manager: docker",
    ]
    assert changed_lines((sample / addons).read_text(), rendered[addons]) == [
        "-metrics_server_enabled: false",
        "+metrics_server_enabled: true",
    ]


def test_more_overrides_edit_in_place_and_new_keys_are_appended(checkout):
    sample = checkout / "inventory" / "sample"
    k8s = "group_vars/k8s_cluster/k8s-cluster.yml"
    overrides = merged_overrides({k8s: {"kube_version": "v1.30.1", "kube_proxy_strict_arp": True}})
    original = (sample / k8s).read_text()
    rendered = render_group_vars(sample, overrides)[k8s]
    diff = changed_lines(original, rendered)
    assert "-kube_version: v1.30.4" in diff and "+kube_version: v1.30.1" in diff
    assert "+container_manager: docker" in diff
    assert rendered.count("kube_proxy_strict_arp: true") == 1
    # Every comment of the original survives.
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert [line for line in rendered.splitlines() if line.lstrip().startswith("#")] == comments


def test_docker_insecure_registries_is_refused():
    """One mechanism for the insecure registry: daemon.json. dockerd refuses to start when
    the same setting also comes as --insecure-registry flags."""
    with pytest.raises(KubesprayConfigError, match="docker_insecure_registries.*daemon.json"):
        merged_overrides(
            {"group_vars/all/docker.yml": {"docker_insecure_registries": ["node1:5000"]}}
        )


def test_unknown_group_vars_file_is_named(checkout):
    with pytest.raises(KubesprayConfigError, match="group_vars/k8s_cluster/nope.yml"):
        render_group_vars(
            checkout / "inventory" / "sample", {"group_vars/k8s_cluster/nope.yml": {"a": 1}}
        )


def test_invalid_yaml_is_named():
    with pytest.raises(KubesprayConfigError, match="broken.yml: not valid YAML"):
        edit_yaml_text("a: [1, 2\n", {"a": 1}, "broken.yml")


def test_node_files_for_the_lab_use_lab_addresses(checkout):
    from gourmetops.targets import lab_target

    files = node_files(lab_target().cluster, checkout, {})
    assert set(files) == {
        "inventory/mycluster/hosts.yaml",
        "inventory/mycluster/group_vars/k8s_cluster/k8s-cluster.yml",
        "inventory/mycluster/group_vars/k8s_cluster/addons.yml",
    }
    assert "ansible_host: 10.254.1.12" in files["inventory/mycluster/hosts.yaml"]
    assert "192.168.1." not in files["inventory/mycluster/hosts.yaml"]
