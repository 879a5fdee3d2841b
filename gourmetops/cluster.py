"""The cluster model: nodes, addresses, roles and the jump host, read from cluster.yaml.

Everything that names a node or an address (pyinfra groups, ssh_config,
kubespray's hosts.yaml, the Service's externalIPs) is derived from here.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from gourmetops import PROJECT_ROOT
from gourmetops.errors import InputError
from gourmetops.roles import builder_roles
from gourmetops.validation import (
    HOSTNAME,
    Hostname,
    IPv4,
    IPv4Net,
    PosixUser,
    problems,
)
from gourmetops.yamlio import load_config

CLUSTER_ENV = "GOURMETOPS_CLUSTER"
CLUSTER_FILE = PROJECT_ROOT / "cluster.yaml"


class ClusterError(InputError):
    """The cluster description is unusable; the message names the file and key."""


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
    private_network: ipaddress.IPv4Network | None = None
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
        """The same nodes moved into `network`, each keeping its host part (.11 stays .11);
        two nodes landing on one address (a wider private_network than the lab's) are refused."""
        moved: list[Node] = []
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
            clash = next((m.name for m in moved if m.address == address), None)
            if clash:
                raise ClusterError(
                    f"{self.source}: {n.name} and {clash} both land on {address} in {network}: "
                    "give them different host parts (the part after the network prefix)"
                )
            moved.append(replace(n, address=address))
        return replace(self, nodes=tuple(moved))


class _NodeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Hostname
    address: IPv4
    # None on every node: kubespray's inventory builder rule assigns them (gourmetops.roles).
    roles: list[Literal["kube_control_plane", "kube_node", "etcd"]] | None = Field(
        default=None, min_length=1
    )
    jump: StrictBool = False

    @field_validator("roles")
    @classmethod
    def _no_repeats(cls, roles: list[str] | None) -> list[str] | None:
        if roles is not None and len(set(roles)) != len(roles):
            raise ValueError(f"{roles} names a role twice")
        return roles


class _LabFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    range: IPv4Net
    private_network: IPv4Net
    public_network: IPv4Net

    @model_validator(mode="after")
    def _inside_range(self) -> _LabFile:
        if not self.range.is_private or self.range.is_loopback:
            raise ValueError(f"range {self.range} must be a private range (RFC 1918)")
        for key in ("private_network", "public_network"):
            if not getattr(self, key).subnet_of(self.range):
                raise ValueError(f"{key} must lie inside range {self.range}")
        if self.private_network.overlaps(self.public_network):
            raise ValueError("private_network and public_network must not overlap")
        if self.public_network.num_addresses < 4:
            raise ValueError(f"public_network {self.public_network} needs two hosts (a /30)")
        return self


class _ClusterFile(BaseModel):
    """cluster.yaml as written; the checks that need the whole file run after the fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user: PosixUser
    private_network: IPv4Net
    nodes: list[_NodeFile] = Field(min_length=1)
    lab: _LabFile | None = None

    @model_validator(mode="after")
    def _one_cluster(self) -> _ClusterFile:
        net = self.private_network
        if not net.is_private or net.is_loopback:
            raise ValueError(f"private_network {net} must be a private range (RFC 1918)")
        for attr in ("name", "address"):
            seen: set[Any] = set()
            for n in self.nodes:
                value = getattr(n, attr)
                if value in seen:
                    raise ValueError(f"duplicate node {attr} {str(value)!r}")
                seen.add(value)
        for n in self.nodes:
            if n.address not in net or n.address in (net.network_address, net.broadcast_address):
                raise ValueError(
                    f"node {n.name!r} address {n.address} is not a host of private_network {net}"
                )
        jumps = [n.name for n in self.nodes if n.jump]
        if len(jumps) != 1:
            raise ValueError(f"exactly one node must have 'jump: true' (found {jumps})")
        roles = self.roles()
        if not any("kube_control_plane" in r for r in roles.values()):
            raise ValueError("no node has the role kube_control_plane; give it to at least one")
        etcd = [name for name, r in roles.items() if "etcd" in r]
        if len(etcd) % 2 == 0:
            raise ValueError(
                f"etcd needs an odd number of members for a quorum, not {len(etcd)} ({etcd})"
            )
        return self

    def roles(self) -> dict[str, tuple[str, ...]]:
        """Each node's roles: as written, or, when no node has any, by the builder's rule."""
        given = [n.name for n in self.nodes if n.roles is not None]
        if not given:
            return builder_roles([n.name for n in self.nodes])
        if len(given) != len(self.nodes):
            missing = [n.name for n in self.nodes if n.roles is None]
            raise ValueError(
                f"roles are given for {given} but not for {missing}: give them for every node, "
                "or for none (then kubespray's inventory builder rule assigns them)"
            )
        return {n.name: tuple(n.roles or ()) for n in self.nodes}


_KNOWN_KEYS = {
    (): list(_ClusterFile.model_fields),
    ("nodes",): list(_NodeFile.model_fields),
    ("lab",): list(_LabFile.model_fields),
}


def _label(path: str, item: Any) -> str | None:
    """Errors inside a node name the node (by its name, when it has a usable one)."""
    name = item.get("name") if isinstance(item, dict) else None
    if path == "nodes" and isinstance(name, str) and HOSTNAME.fullmatch(name):
        return f"node {name!r}"
    return None


def parse_cluster(raw: Any, source: str) -> Cluster:
    """Validate the mapping read from cluster.yaml; every error names `source`, the field
    and what to write instead. All problems are reported at once."""
    try:
        model = _ClusterFile.model_validate(raw)
    except ValidationError as err:
        lines = problems(err, source, raw, known=_KNOWN_KEYS, label_of=_label)
        raise ClusterError("\n".join(lines)) from None
    lab = None
    if model.lab is not None:
        lab = LabNetwork(model.lab.range, model.lab.private_network, model.lab.public_network)
    roles = model.roles()
    cluster = Cluster(
        user=model.user,
        nodes=tuple(
            Node(name=n.name, address=n.address, roles=roles[n.name], jump=n.jump)
            for n in model.nodes
        ),
        lab=lab,
        private_network=model.private_network,
        source=source,
    )
    if lab is not None:
        cluster.with_private_network(lab.private_network)  # the lab's addresses must fit too
    return cluster


def load_cluster(path: Path | str | None = None) -> Cluster:
    """Read cluster.yaml, or the file named by $GOURMETOPS_CLUSTER."""
    path = Path(path or os.environ.get(CLUSTER_ENV) or CLUSTER_FILE)
    try:
        raw = load_config(path, ClusterError)
    except FileNotFoundError:
        raise ClusterError(f"{path}: cluster description not found") from None
    except OSError as exc:
        raise ClusterError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_cluster(raw, str(path))
