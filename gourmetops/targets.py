"""Targets: where the cluster model is deployed (the real Chameleon nodes or the local lab).

A target adds what the model leaves open: the address the controller reaches node1 at
(the floating IP), how SSH authenticates and verifies hosts, and where derived files live.
From it come the pyinfra groups and the ssh_config every tool here uses.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gourmetops import PROJECT_ROOT, STATE_DIR
from gourmetops.chameleon_config import (
    CHAMELEON_CONFIG,
    CHAMELEON_CONFIG_ENV,
    SERVICE_ADDRESS_ENV,
    floating_ip,
    service_address,
    user_ssh_key,
)
from gourmetops.cluster import Cluster, ClusterError, load_cluster
from gourmetops.errors import TargetError
from gourmetops.lab_links import route_out
from gourmetops.safe_write import refuse_unsafe, write_text
from gourmetops.service_address import read_kept
from gourmetops.ssh_key import identity_lines

TARGETS = ("lab", "chameleon")
TARGET_ENV = "GOURMETOPS_TARGET"
LAB_DIR = PROJECT_ROOT / ".lab"
# pyinfra tries a worker again after a random 0.1-0.5 s when its connection is dropped.
JUMP_CONNECT_RETRIES = 2


@dataclass(frozen=True)
class Target:
    name: str
    cluster: Cluster
    public_address: ipaddress.IPv4Address
    ssh_options: Mapping[str, str]
    # node1's own address on the network that faces the internet: the Service's externalIP
    # (on Chameleon the floating IP is NATed to it; it is not the floating IP itself).
    service_address: ipaddress.IPv4Address | None = None
    service_address_hint: str = ""
    # The private key every client offers (IdentityFile, IdentitiesOnly); None: ssh's own
    # default keys and agent.
    ssh_key: Path | None = None
    # The lab's addresses exist only while it runs: checked before any client gets them.
    lab_only: bool = False

    def external_ip(self) -> str:
        if self.service_address is None:
            raise TargetError(f"no external IP for the Service: {self.service_address_hint}")
        return str(self.service_address)

    @property
    def state_dir(self) -> Path:
        return STATE_DIR / self.name

    @property
    def ssh_config_path(self) -> Path:
        return self.state_dir / "ssh_config"

    def ssh_config_text(self) -> str:
        """ssh_config: node1 at the public address, every other node through it (ProxyJump)."""
        jump = self.cluster.jump
        lines = [f"# Generated from {self.cluster.source} for target {self.name!r}; do not edit."]
        for node in self.cluster.nodes:
            lines.append(f"Host {node.name}")
            if node.jump:
                lines.append(f"    HostName {self.public_address}")
            else:
                lines.append(f"    HostName {node.address}")
                lines.append(f"    ProxyJump {jump.name}")
        lines.append("Host *")
        lines.append(f"    User {self.cluster.user}")
        lines.append("    ConnectTimeout 10")
        if self.ssh_key is not None:
            lines.extend(f"    {line}" for line in identity_lines(self.ssh_key))
        lines.extend(f"    {key} {value}" for key, value in self.ssh_options.items())
        return "\n".join(lines) + "\n"

    def write_ssh_config(self) -> Path:
        """Write the ssh_config only when its content changed (several tools, and the
        threads of `fab check`, read it; each writer renames its own temp file in)."""
        self.refuse_if_routed_out()
        path = self.ssh_config_path
        text = self.ssh_config_text()
        refuse_unsafe(path, "ssh_config")
        if not path.exists() or path.read_bytes() != text.encode():
            write_text(path, text, "ssh_config")
        return path

    def refuse_if_routed_out(self) -> None:
        """Every client reaches the nodes through the ssh_config written here (Fabric, ssh,
        pyinfra's inventory): with the lab down, its addresses would leave this machine."""
        if not self.lab_only:
            return
        out = route_out(self.public_address)
        if out:
            raise TargetError(
                f"the lab is not running: its address for node1 ({self.public_address}) would "
                f"leave this machine ({out}), so nothing connects; start it with `fab lab.up` "
                "(`fab up` starts it too)"
            )

    def ssh_argv(
        self, node: str, *command: str, options: Sequence[str] = (), batch: bool = True
    ) -> list[str]:
        """`ssh -F <ssh_config> -o BatchMode=yes OPTIONS NODE COMMAND`: how every tool here
        reaches a node (no prompt in batch mode; `batch=False` for a command a user runs)."""
        argv = ["ssh", "-F", str(self.write_ssh_config())]
        argv += ["-o", "BatchMode=yes"] if batch else []
        return [*argv, *options, node, *command]

    def inventory_data(self, node_name: str) -> dict[str, Any]:
        """What pyinfra's inventory gives `node_name` besides group_data: its connection and
        its place in cluster.yaml."""
        node = self.cluster.node(node_name)
        data: dict[str, Any] = {
            "ssh_config_file": str(self.ssh_config_path),
            "private_address": str(node.address),
            "kube_roles": list(node.roles),
            "target": self.name,
            "cluster_user": self.cluster.user,
        }
        if not node.jump:
            # Every worker connects through node1 at the same moment; until prepare sizes
            # its sshd (gourmetops.jump), a stock MaxStartups drops some of those past ten.
            data["ssh_connect_retries"] = JUMP_CONNECT_RETRIES
        return data

    def groups(self) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """pyinfra groups: `head` holds the jump host, `workers` the nodes behind it."""
        self.write_ssh_config()
        return {
            "head": [(self.cluster.jump.name, self.inventory_data(self.cluster.jump.name))],
            "workers": [(n.name, self.inventory_data(n.name)) for n in self.cluster.workers],
        }


def chameleon_target(
    env: Mapping[str, str] | None = None, cluster: Cluster | None = None
) -> Target:
    """The real nodes; node1's floating IP comes from the environment or chameleon.local.yaml."""
    env = os.environ if env is None else env
    config_file = Path(env.get(CHAMELEON_CONFIG_ENV) or CHAMELEON_CONFIG)
    model = cluster or load_cluster()  # cluster.yaml first: its errors come before the IP's
    floating, service = floating_ip(env, config_file), service_address(env, config_file)
    if service is not None and service == floating:
        # The floating IP is NAT'd to node1 by Chameleon's router; no interface of node1
        # has it, so kube-proxy would never match a Service externalIP set to it.
        raise TargetError(
            f"node1's public address {service} is its floating IP: give node1's own address "
            f"on sharednet1 instead ({SERVICE_ADDRESS_ENV} or 'node1_public_address' in "
            f"{config_file}; `ip -4 addr` on node1 shows it), which the floating IP maps to"
        )
    target = Target(
        name="chameleon",
        cluster=model,
        public_address=floating,
        service_address=service,
        service_address_hint=(
            f"set {SERVICE_ADDRESS_ENV} or 'node1_public_address' in {config_file} to node1's "
            "address on sharednet1 (`ip -4 addr` on node1; not the floating IP), or let "
            "`fab rollout` (or `fab up`) find it on node1"
        ),
        # First contact trusts and records the key, as the tutorial's first `ssh` does;
        # a changed key afterwards is refused.
        ssh_options={"StrictHostKeyChecking": "accept-new"},
        ssh_key=user_ssh_key(env, config_file),
    )
    if service is None:  # found on node1 by an earlier rollout (gourmetops.service_address)
        target = replace(target, service_address=read_kept(target))
    return target


def lab_target(cluster: Cluster | None = None, env: Mapping[str, str] | None = None) -> Target:
    """The local lab: the model re-addressed into the lab's own range, keys made by lab.up
    (GOURMETOPS_SSH_KEY names another key the nodes accept)."""
    env = os.environ if env is None else env
    model = cluster or load_cluster()
    if model.lab is None:
        raise ClusterError(f"{model.source}: the 'lab' section is needed for the lab target")
    return Target(
        name="lab",
        cluster=model.with_private_network(model.lab.private_network),
        public_address=model.lab.public_address,
        service_address=model.lab.public_address,
        ssh_key=user_ssh_key(env, None) or LAB_DIR / "id_ed25519",
        lab_only=True,
        ssh_options={
            # lab.up writes the host keys it generated here, so verification is strict.
            "UserKnownHostsFile": str(LAB_DIR / "known_hosts"),
            "StrictHostKeyChecking": "yes",
        },
    )


def unknown_target(name: str) -> str | None:
    """Why `name` is no target (the message --target and GOURMETOPS_TARGET share), or None."""
    if name in TARGETS:
        return None
    close = difflib.get_close_matches(name, TARGETS, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown target {name!r}; {hint}choose one of {', '.join(TARGETS)}"


def chosen_target(
    given: str | None, fallback: str = "lab", env: Mapping[str, str] | None = None
) -> str:
    """The target a task (or the notebook) runs on: the one given (--target), else
    GOURMETOPS_TARGET, set once for every task, else `fallback`; checked either way."""
    env = os.environ if env is None else env
    if given is None and env.get(TARGET_ENV):
        why = unknown_target(env[TARGET_ENV])
        if why:
            raise TargetError(f"environment variable {TARGET_ENV}: {why}")
        return env[TARGET_ENV]
    name = fallback if given is None else given
    why = unknown_target(name)
    if why:
        raise TargetError(why)
    return name


def get_target(name: str) -> Target:
    if name == "lab":
        return lab_target()
    if name == "chameleon":
        return chameleon_target()
    raise TargetError(unknown_target(name) or f"target {name!r} has no builder")
