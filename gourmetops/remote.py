"""Fabric connections to the target's nodes through the generated ssh_config, with the
same host key rules pyinfra and plain `ssh -F` follow."""

from __future__ import annotations

from fabric import Config, Connection
from paramiko import RejectPolicy

from gourmetops.targets import Target


def connect(target: Target, node: str) -> Connection:
    path = target.write_ssh_config()
    conn = Connection(node, config=Config(runtime_ssh_path=str(path)))
    known_hosts = target.ssh_options.get("UserKnownHostsFile")
    if known_hosts:
        conn.client.load_host_keys(known_hosts)
    if target.ssh_options.get("StrictHostKeyChecking") == "yes":
        # Fabric's default is to accept unknown keys; the lab pins every key it made.
        conn.client.set_missing_host_key_policy(RejectPolicy())
    return conn
