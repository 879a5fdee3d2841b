"""Fabric tasks that orchestrate the GourmetGram-on-Kubernetes stages.

    fab up --target lab         # every stage in order (brings the lab up first)
    fab prepare --target chameleon --dry
    fab lab.status

Targets: `lab` (the local three-node lab, the default) and `chameleon` (real nodes;
node1's floating IP from GOURMETOPS_FLOATING_IP or chameleon.local.yaml).
"""

from __future__ import annotations

import shlex

from fabric import task
from invoke import Collection, Context
from invoke.exceptions import Exit

from gourmetops import PROJECT_ROOT
from gourmetops import lab as labmod
from gourmetops.stages import failed_hosts, pyinfra_command

TARGET_HELP = {
    "target": "lab (default) or chameleon",
    "dry": "show what would change, change nothing",
}


def _run_pyinfra(c: Context, target: str, deploy: str, dry: bool) -> None:
    cmd = pyinfra_command(target, deploy, dry=dry)
    print(f"==> {shlex.join(cmd)}", flush=True)
    with c.cd(str(PROJECT_ROOT)):
        result = c.run(shlex.join(cmd), warn=True, pty=False, in_stream=False)
    if result.exited != 0:
        hosts = failed_hosts(result.stdout + result.stderr)
        why = "; ".join(f"{host}: {reason}" for host, reason in hosts.items()) or "see above"
        raise Exit(f"{deploy} failed on target {target}: {why}", result.exited)


@task(help=TARGET_HELP)
def prepare(c, target="lab", dry=False):
    """Preliminaries: node1's key everywhere, host keys pinned, firewalld off, old Docker gone."""
    _run_pyinfra(c, target, "prepare", dry)


@task(help=TARGET_HELP)
def up(c, target="lab", dry=False):
    """Every stage in order for the target; for the lab, bring the lab up first."""
    if target == "lab":
        if dry:
            if labmod.status().state != "running":
                print("lab is not running: a real run would start it; dry run stops here")
                return
        else:
            labmod.up()
    prepare(c, target=target, dry=dry)


@task(name="up")
def lab_up(c):
    """Start the local three-node lab (no-op if it runs; a stale lab is cleaned first)."""
    print(labmod.up())


@task(name="down")
def lab_down(c):
    """Stop the lab and remove its namespaces, mounts and route (only what it made)."""
    labmod.down()
    print(labmod.status())


@task(name="status")
def lab_status(c):
    """Show whether the lab runs, and each node's nspawn PID."""
    print(labmod.status())


@task(name="reset")
def lab_reset(c):
    """Pristine nodes in seconds: fresh overlay upper dirs and host keys, same rootfs."""
    print(labmod.reset())


ns = Collection(up, prepare)
ns.add_collection(Collection("lab", lab_up, lab_down, lab_status, lab_reset))
