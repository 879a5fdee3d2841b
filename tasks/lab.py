"""The local three-node lab: systemd-nspawn nodes in network namespaces on this machine,
node1 reachable from here, node2 and node3 only through it."""

from __future__ import annotations

from fabric import task

from tasks.common import clean_errors

# gourmetops.lab is imported in each task, when it runs: it pulls in pydantic and pyinfra.


@task(name="up")
@clean_errors
def lab_up(c):
    """Start the local three-node lab (no-op if it runs; a stale lab is cleaned first)."""
    from gourmetops import lab as labmod

    print(labmod.up())


@task(name="down")
@clean_errors
def lab_down(c):
    """Stop the lab and remove its namespaces, mounts and route (only what it made)."""
    from gourmetops import lab as labmod

    labmod.down()
    print(labmod.status())


@task(name="status")
@clean_errors
def lab_status(c):
    """Show whether the lab runs, and each node's nspawn PID."""
    from gourmetops import lab as labmod

    print(labmod.status())


@task(name="reset")
@clean_errors
def lab_reset(c):
    """Pristine nodes in seconds: fresh overlay upper dirs and host keys, same rootfs."""
    from gourmetops import lab as labmod

    print(labmod.reset())
