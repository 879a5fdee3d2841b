"""kubespray's inventory, generated: hosts.yaml from the cluster model and the sample's
group_vars with our edits made by ruamel.yaml round-trip (every other byte as upstream
wrote it).

hosts.yaml follows what kubespray's own contrib/inventory_builder/inventory.py wrote for a
list of addresses (the tutorial runs it; upstream removed it in v2.27). The builder only
decides roles differently from 50 nodes up (SCALE_THRESHOLD), which we do not model: roles
come from cluster.yaml, and `builder_roles` reproduces the builder's choice for tests and
for a cluster given as bare addresses.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path

from ruamel.yaml.error import YAMLError

from gourmetops.cluster import Cluster, Node
from gourmetops.errors import GourmetopsError, PyinfraDeployError
from gourmetops.yamlio import dump, roundtrip

__all__ = [
    "TUTORIAL_GROUP_VARS",
    "KubesprayConfigError",
    "builder_roles",
    "cluster_from_addresses",
    "edit_yaml_text",
    "hosts_yaml",
    "render_group_vars",
]

# The tutorial's two edits, as paths relative to the inventory directory.
TUTORIAL_GROUP_VARS: dict[str, dict[str, object]] = {
    "group_vars/k8s_cluster/k8s-cluster.yml": {"container_manager": "docker"},
    "group_vars/k8s_cluster/addons.yml": {"metrics_server_enabled": True},
}

# The builder's group order; k8s_cluster is control plane + nodes, calico_rr stays empty.
_ROLE_GROUPS = ("kube_control_plane", "kube_node", "etcd")
_CONTROL_PLANE_HOSTS = 2  # the builder's KUBE_CONTROL_HOSTS default


class KubesprayConfigError(GourmetopsError, ValueError, PyinfraDeployError):
    """A kubespray setting or file we cannot produce as asked; the message names it.

    In pyinfra's process a DeployError, which its CLI prints as a message, not a traceback."""


def builder_roles(index: int, count: int) -> tuple[str, ...]:
    """Roles inventory.py gives the `index`-th (0-based) of `count` hosts (count < 50):
    etcd on the first three (or the first one under three hosts), the control plane on
    the first two, every host a node."""
    etcd = 3 if count >= 3 else 1
    roles = []
    if index < _CONTROL_PLANE_HOSTS:
        roles.append("kube_control_plane")
    roles.append("kube_node")
    if index < etcd:
        roles.append("etcd")
    return tuple(roles)


def cluster_from_addresses(addresses: Iterable[str], user: str = "cc") -> Cluster:
    """The cluster inventory.py would describe for these addresses: node1..nodeN, node1
    the jump host."""
    addrs = [ipaddress.IPv4Address(a) for a in addresses]
    nodes = tuple(
        Node(name=f"node{i + 1}", address=a, roles=builder_roles(i, len(addrs)), jump=i == 0)
        for i, a in enumerate(addrs)
    )
    return Cluster(user=user, nodes=nodes, source="<addresses>")


def hosts_yaml(cluster: Cluster) -> str:
    """inventory/<name>/hosts.yaml for the cluster, laid out as inventory.py writes it."""
    hosts = {
        n.name: {"ansible_host": str(n.address), "ip": str(n.address), "access_ip": str(n.address)}
        for n in cluster.nodes
    }
    children: dict[str, object] = {
        group: {"hosts": {n.name: None for n in cluster.nodes if group in n.roles}}
        for group in _ROLE_GROUPS
    }
    children["k8s_cluster"] = {"children": {"kube_control_plane": None, "kube_node": None}}
    children["calico_rr"] = {"hosts": {}}
    return dump({"all": {"hosts": hosts, "children": children}})


def edit_yaml_text(text: str, values: Mapping[str, object], where: str) -> str:
    """`text` with the top-level keys in `values` set; a key not there yet is appended.
    Refuses (naming `where`) rather than reformat anything else: if the round trip would
    change a byte outside the edited keys, that is an error, not a silent rewrite."""
    yaml = roundtrip()
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise KubesprayConfigError(f"{where}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, MutableMapping):
        raise KubesprayConfigError(f"{where}: expected a mapping at the top level")
    explicit = text.lstrip().startswith("---")
    if dump(data, explicit_start=explicit) != text:
        raise KubesprayConfigError(
            f"{where}: ruamel.yaml cannot reproduce this file byte for byte, so editing it "
            "would reformat it; edit it by hand or drop the override"
        )
    for key, value in values.items():
        data[key] = value
    edited = dump(data, explicit_start=explicit)
    # Only the edited keys' own lines (and the continuation lines of their values) may
    # differ; a comment or another key touched means ruamel reformatted something.
    removed = [
        line[2:]
        for line in difflib.ndiff(text.splitlines(), edited.splitlines())
        if line.startswith("- ")
    ]
    strays = [
        line
        for line in removed
        if not line.startswith((" ", "-")) and line.split(":", 1)[0] not in values
    ]
    if strays:
        raise KubesprayConfigError(f"{where}: editing {list(values)} would also change {strays}")
    return edited


def render_group_vars(
    sample_dir: Path, overrides: Mapping[str, Mapping[str, object]]
) -> dict[str, str]:
    """Path (relative to the inventory) -> the sample's file with `overrides` applied."""
    out = {}
    for rel, values in overrides.items():
        path = sample_dir / rel
        if not path.is_file():
            raise KubesprayConfigError(
                f"kubespray_group_vars: {rel!r} is not a file of {sample_dir}"
            )
        out[rel] = edit_yaml_text(path.read_text(), values, str(path))
    return out
