"""The cluster model: nodes, addresses, roles and the jump host, read from cluster.yaml.

Everything that names a node or an address (pyinfra groups, ssh_config,
kubespray's hosts.yaml, the Service's externalIPs) is derived from here.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pyinfra.api.exceptions import InventoryError
from ruamel.yaml import YAML

from gourmetops import PROJECT_ROOT

CLUSTER_ENV = "GOURMETOPS_CLUSTER"
CLUSTER_FILE = PROJECT_ROOT / "cluster.yaml"
KUBESPRAY_ROLES = ("kube_control_plane", "kube_node", "etcd")


class ClusterError(InventoryError, ValueError):
    """The cluster description is unusable; the message names the file and key.

    An InventoryError so the pyinfra CLI prints it as a message, not a traceback."""


@dataclass(frozen=True)
class Node:
    name: str
    address: ipaddress.IPv4Address
    roles: tuple[str, ...]
    jump: bool = False


@dataclass(frozen=True)
class LabNetwork:
    range: ipaddress.IPv4Network
    private_network: ipaddress.IPv4Network
    public_network: ipaddress.IPv4Network

    @property
    def host_address(self) -> ipaddress.IPv4Address:
        """The host's end of the public link."""
        return self.public_network.network_address + 1

    @property
    def public_address(self) -> ipaddress.IPv4Address:
        """node1's end of the public link: the lab's stand-in for the floating IP."""
        return self.public_network.network_address + 2


@dataclass(frozen=True)
class Cluster:
    user: str
    nodes: tuple[Node, ...]
    lab: LabNetwork | None = None
    source: str = field(default=str(CLUSTER_FILE), compare=False)

    @property
    def jump(self) -> Node:
        return next(n for n in self.nodes if n.jump)

    @property
    def workers(self) -> tuple[Node, ...]:
        """Every node that is not the jump host (reached only through it)."""
        return tuple(n for n in self.nodes if not n.jump)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise ClusterError(f"{self.source}: no node named {name!r}")

    def with_private_network(self, network: ipaddress.IPv4Network) -> Cluster:
        """The same nodes moved into `network`, each keeping its host part (.11 stays .11)."""
        moved = []
        for n in self.nodes:
            host_part = int(n.address) & int(network.hostmask)
            address = network.network_address + host_part
            if address not in network or address in (
                network.network_address,
                network.broadcast_address,
            ):
                raise ClusterError(
                    f"{self.source}: {n.name} address {n.address} has no place in {network}"
                )
            moved.append(replace(n, address=address))
        return replace(self, nodes=tuple(moved))


def _ipv4(value: Any, where: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        raise ClusterError(f"{where}: {value!r} is not an IPv4 address") from None


def _network(value: Any, where: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(str(value))
    except ValueError:
        raise ClusterError(f"{where}: {value!r} is not an IPv4 network") from None


def parse_cluster(raw: Any, source: str) -> Cluster:
    """Validate the mapping read from cluster.yaml; every error names `source` and the key."""
    if not isinstance(raw, dict):
        raise ClusterError(f"{source}: expected a mapping with 'user' and 'nodes'")
    user = raw.get("user")
    if not isinstance(user, str) or not user:
        raise ClusterError(f"{source}: 'user' must be a non-empty string")
    raw_nodes = raw.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise ClusterError(f"{source}: 'nodes' must be a non-empty list")

    nodes: list[Node] = []
    for i, item in enumerate(raw_nodes):
        where = f"{source}: nodes[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ClusterError(f"{where}: each node needs a 'name'")
        where = f"{source}: node {item['name']!r}"
        roles = tuple(item.get("roles") or ())
        unknown = [r for r in roles if r not in KUBESPRAY_ROLES]
        if unknown:
            raise ClusterError(
                f"{where}: unknown role(s) {unknown}; known: {list(KUBESPRAY_ROLES)}"
            )
        nodes.append(
            Node(
                name=item["name"],
                address=_ipv4(item.get("address"), f"{where} address"),
                roles=roles,
                jump=bool(item.get("jump", False)),
            )
        )

    for attr in ("name", "address"):
        seen: set[Any] = set()
        for n in nodes:
            value = getattr(n, attr)
            if value in seen:
                raise ClusterError(f"{source}: duplicate node {attr} {str(value)!r}")
            seen.add(value)
    jumps = [n.name for n in nodes if n.jump]
    if len(jumps) != 1:
        raise ClusterError(f"{source}: exactly one node must have 'jump: true' (found {jumps})")

    lab = None
    if raw.get("lab") is not None:
        lab_raw = raw["lab"]
        lab = LabNetwork(
            range=_network(lab_raw.get("range"), f"{source}: lab.range"),
            private_network=_network(
                lab_raw.get("private_network"), f"{source}: lab.private_network"
            ),
            public_network=_network(lab_raw.get("public_network"), f"{source}: lab.public_network"),
        )
        for key in ("private_network", "public_network"):
            if not getattr(lab, key).subnet_of(lab.range):
                raise ClusterError(f"{source}: lab.{key} must lie inside lab.range {lab.range}")
    return Cluster(user=user, nodes=tuple(nodes), lab=lab, source=source)


def load_cluster(path: Path | str | None = None) -> Cluster:
    """Read cluster.yaml, or the file named by $GOURMETOPS_CLUSTER."""
    path = Path(path or os.environ.get(CLUSTER_ENV) or CLUSTER_FILE)
    try:
        raw = YAML(typ="safe").load(path.read_text())
    except FileNotFoundError:
        raise ClusterError(f"{path}: cluster description not found") from None
    except Exception as exc:  # ruamel's parser errors carry line numbers; keep them
        raise ClusterError(f"{path}: not valid YAML: {exc}") from None
    return parse_cluster(raw, str(path))
