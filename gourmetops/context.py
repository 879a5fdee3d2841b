"""One run's view of a target, built once per `fab` call: the target (cluster model and how
the controller reaches it), its checked settings, the jump host, and Fabric connections
through the generated ssh_config. Tasks and stages take this instead of rebuilding it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fabric import Config, Connection
from paramiko import RejectPolicy

from gourmetops.targets import Target, get_target
from gourmetops.unreachable import CONNECT_ERRORS, from_exception

if TYPE_CHECKING:
    from gourmetops.settings_schema import HostSettings


class NodeConnection(Connection):
    """A Fabric connection whose failure to connect (refused, timed out, key refused, host
    key changed, ...) is one line naming the node (gourmetops.unreachable), not paramiko's
    traceback: every run, sudo, put or tunnel opens through `open`."""

    # Declared here: Fabric's config proxy would take an undeclared attribute as a setting.
    gourmetops_target: Target | None = None
    gourmetops_node = ""

    def open(self) -> Any:
        try:
            return super().open()
        except CONNECT_ERRORS as exc:
            said = self.gourmetops_target and from_exception(
                self.gourmetops_target, self.gourmetops_node, exc
            )
            if not said:
                raise
            self.close()  # a half-open transport would be reused by the next run
            raise said from None


def connect(target: Target, node: str) -> Connection:
    """A Fabric connection with the host-key rules pyinfra and `ssh -F` follow. Fabric hands
    the ssh_config's IdentityFile to paramiko as key_filename (the jump host's connection
    too: it reads the same file); IdentitiesOnly it ignores, so paramiko is told not to try
    ~/.ssh's other keys besides, as ssh does not."""
    path = target.write_ssh_config()
    only = {"connect_kwargs": {"look_for_keys": False}} if target.ssh_key else {}
    conn = NodeConnection(node, config=Config(runtime_ssh_path=str(path), overrides=only))
    conn.gourmetops_target, conn.gourmetops_node = target, node
    known_hosts = target.ssh_options.get("UserKnownHostsFile")
    if known_hosts:
        conn.client.load_host_keys(known_hosts)
    if target.ssh_options.get("StrictHostKeyChecking") == "yes":
        # Fabric's default is to accept unknown keys; the lab pins every key it made.
        conn.client.set_missing_host_key_policy(RejectPolicy())
    return conn


class RunContext:
    """`RunContext("lab")`: the target is built (and cluster.yaml checked) at once, the
    settings on first use; both stay for the run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.target = get_target(name)
        self._connections: dict[str, Connection] = {}
        self.redo: frozenset[str] = frozenset()  # stages to run even when unchanged (--redo)
        self.retries: int | None = None  # the cluster stage's reruns (--retries), if given
        # `fab up`'s pre-checks, left for the cluster stage while it looked unchanged
        self.deferred_checks: Callable[[], object] | None = None

    @cached_property
    def settings(self) -> HostSettings:
        """group_data for the jump host, checked against the settings schema."""
        # local: it imports the kubernetes client, which the pyinfra stages never need
        from gourmetops.settings import host_settings

        return host_settings(self.target)

    @property
    def cluster_retries(self) -> int:
        """How often the cluster stage reruns a failing playbook: --retries, else the
        target's cluster_retries (a deterministic failure need not cost three installs)."""
        return self.settings.cluster_retries if self.retries is None else self.retries

    @property
    def head(self) -> str:
        return self.target.cluster.jump.name

    @property
    def state_dir(self) -> Path:
        return self.target.state_dir

    @property
    def installs_kubernetes(self) -> bool:
        return bool(self.settings.cluster_installs_kubernetes)

    def connect(self, node: str | None = None) -> Connection:
        """One Fabric connection per node for the run (node1 by default)."""
        name = node or self.head
        if name not in self._connections:
            self._connections[name] = connect(self.target, name)
        return self._connections[name]
