"""What the kubespray stage puts in node1's checkout, computed on the controller from the
cluster model and a controller-side checkout of the same source and ref. `fab render`
writes exactly these files; deploys/kubespray.py uploads them."""

from __future__ import annotations

import difflib
import subprocess
from collections.abc import Mapping
from pathlib import Path

from gourmetops.cluster import Cluster
from gourmetops.kubespray.inventory import (
    TUTORIAL_GROUP_VARS,
    KubesprayConfigError,
    hosts_yaml,
    render_group_vars,
)

INVENTORY = "inventory/mycluster"

# The registry is made insecure-trusted in /etc/docker/daemon.json (the tutorial's way, kept
# by the registry stage). kubespray can also pass --insecure-registry flags from this
# variable, and dockerd refuses to start when one setting comes both ways: so never here.
FORBIDDEN_VARS = {
    "docker_insecure_registries": "the registry is trusted through /etc/docker/daemon.json "
    "(registry stage); dockerd refuses to start when it is also given as --insecure-registry",
}


def merged_overrides(extra: Mapping[str, Mapping[str, object]]) -> dict[str, dict[str, object]]:
    merged = {path: dict(values) for path, values in TUTORIAL_GROUP_VARS.items()}
    for path, values in extra.items():
        for key in values:
            if key in FORBIDDEN_VARS:
                raise KubesprayConfigError(
                    f"kubespray_group_vars[{path!r}]: {key} cannot be set: {FORBIDDEN_VARS[key]}"
                )
        merged.setdefault(path, {}).update(values)
    return merged


def _mentioned(checkout: Path, name: str) -> bool:
    proc = subprocess.run(
        ["git", "-C", str(checkout), "grep", "-q", "-w", "-F", name, "--", *_KNOWN_PLACES],
        capture_output=True,
    )
    return proc.returncode == 0


def _defined(checkout: Path) -> list[str]:
    """Variables kubespray gives a default or a sample value: what a typo is compared to."""
    proc = subprocess.run(
        ["git", "-C", str(checkout), "grep", "-h", "-o", "-E", "^[a-z_][a-z0-9_]*:", "--"]
        + ["roles/*/defaults/*", "inventory/sample/group_vars/*"],
        capture_output=True,
        text=True,
    )
    return sorted({line.rstrip(":") for line in proc.stdout.split()})


# Where kubespray reads a variable: a role's defaults or templates, a playbook, or the
# sample inventory. Many optional variables exist only as `{{ x | default(...) }}`.
_KNOWN_PLACES = ("roles", "playbooks", "inventory/sample", "*.yml")


def check_known_vars(checkout: Path, extra: Mapping[str, Mapping[str, object]]) -> None:
    """Refuse an override kubespray would silently ignore (a typo such as kube_verison
    leaves the default in force and the cluster not as asked)."""
    for path, values in extra.items():
        for key in values:
            if not _mentioned(checkout, key):
                close = difflib.get_close_matches(key, _defined(checkout), n=1)
                raise KubesprayConfigError(
                    f"kubespray_group_vars[{path!r}]: {key!r} is not a kubespray variable "
                    "(no role, playbook or sample inventory of this kubespray mentions it)"
                    + (f"; did you mean {close[0]!r}?" if close else "")
                )


def node_files(
    cluster: Cluster, checkout: Path, extra: Mapping[str, Mapping[str, object]]
) -> dict[str, str]:
    """Path relative to the kubespray checkout -> content."""
    check_known_vars(checkout, extra)
    files = {
        f"{INVENTORY}/{path}": text
        for path, text in render_group_vars(
            checkout / "inventory" / "sample", merged_overrides(extra)
        ).items()
    }
    files[f"{INVENTORY}/hosts.yaml"] = hosts_yaml(cluster)
    return files


def kube_version(checkout: Path, extra: Mapping[str, Mapping[str, object]]) -> str:
    """The Kubernetes version kubespray will install: an override, else the sample's."""
    from ruamel.yaml import YAML

    check_known_vars(checkout, extra)
    path = "group_vars/k8s_cluster/k8s-cluster.yml"
    override = merged_overrides(extra).get(path, {}).get("kube_version")
    if override:
        return str(override)
    sample = YAML(typ="safe", pure=True).load(
        (checkout / "inventory" / "sample" / path).read_text()
    )
    return str(sample["kube_version"])
