"""The local three-node lab: systemd-nspawn nodes in network namespaces on this machine,
node1 reachable from here, node2 and node3 only through it."""

from __future__ import annotations

from fabric import task

from gourmetops import lab as labmod
from tasks.common import clean_errors


@task(name="up")
@clean_errors
def lab_up(c):
    """Start the local three-node lab (no-op if it runs; a stale lab is cleaned first)."""
    print(labmod.up())


@task(name="down")
@clean_errors
def lab_down(c):
    """Stop the lab and remove its namespaces, mounts and route (only what it made)."""
    labmod.down()
    print(labmod.status())


@task(name="status")
@clean_errors
def lab_status(c):
    """Show whether the lab runs, and each node's nspawn PID."""
    print(labmod.status())


@task(name="reset")
@clean_errors
def lab_reset(c):
    """Pristine nodes in seconds: fresh overlay upper dirs and host keys, same rootfs."""
    print(labmod.reset())
