"""Host state on the nodes: the tutorial's preliminaries, kubespray on node1, the cluster
install, the registry and the app image (and the registry's catalog)."""

from __future__ import annotations

import re

from gourmetops import flags
from gourmetops.errors import InputError
from tasks.common import TARGET_HELP, gtask, retries_flag

# The stages' modules are imported in the tasks that run them, not here: they pull in
# pyinfra, pydantic and the kubernetes client, which `fab --list` and `--help` never use.


@gtask(help=TARGET_HELP)
def prepare(c, target=None, dry=False):
    """Preliminaries: node1's key everywhere, host keys pinned, firewalld off, old Docker gone."""
    from gourmetops.pyinfra_run import deploy
    from gourmetops.run import changing

    with changing(target, "prepare", dry) as ctx:
        deploy(ctx, dry, "prepare")


@gtask(help=TARGET_HELP)
def kubespray(c, target=None, dry=False):
    """Prepare kubespray on node1: checkout, virtualenv, inventory/mycluster (hosts.yaml, edits)."""
    from gourmetops.pyinfra_run import deploy
    from gourmetops.run import changing

    with changing(target, "kubespray", dry) as ctx:
        deploy(ctx, dry, "kubespray")


def _playbook(value: str) -> str:
    """--playbook: a playbook in the kubespray checkout, or an absolute path on node1;
    never '..' out of the checkout, an option, or a word break."""
    if not re.fullmatch(r"(?!-)(?!(.*/)?\.\.(/|\Z))[A-Za-z0-9._/-]+\.ya?ml", value, re.ASCII):
        raise InputError(
            f"--playbook {value!r}: must be a .yml path in the kubespray checkout "
            "(e.g. cluster.yml, playbooks/facts.yml) or an absolute path on node1"
        )
    return value


@gtask(
    help={
        **TARGET_HELP,
        "playbook": "playbook in the kubespray checkout, or an absolute path on node1 "
        "(default: group_data cluster_playbook)",
        "retries": "reruns while hosts fail or are unreachable (default: cluster_retries)",
        "dry": "show the command and where it would run, run nothing",
    }
)
def cluster(c, target=None, playbook=None, retries=None, dry=False):
    """Install Kubernetes: kubespray's playbook from node1, progress shown, log kept, retried."""
    from gourmetops.kubespray import stage as kubespray_stage
    from gourmetops.run import changing

    playbook = None if playbook is None else _playbook(playbook)
    retries = retries_flag(retries, None)
    with changing(target, "cluster", dry) as ctx:
        ctx.retries = retries
        kubespray_stage.cluster(ctx, dry, playbook)


@gtask(
    help={
        **TARGET_HELP,
        "yes": "go on without typing the target's name",
        "retries": "reruns while hosts fail (default 0)",
        "dry": "show the playbook run and what is forgotten, run nothing",
    }
)
def reset(c, target=None, yes=False, retries=None, dry=False):
    """Remove Kubernetes from every node (kubespray's reset.yml); the next `fab up` installs.

    Asks for the target's name to be typed first (or --yes)."""
    from gourmetops.kubespray import reset as resetmod
    from gourmetops.run import changing
    from gourmetops.targets import get_target

    retries = retries_flag(retries, 0)
    get_target(target)  # a bad target or cluster.yaml is said before the question
    if not dry:
        resetmod.confirm(target, yes)
    with changing(target, "reset", dry) as ctx:
        resetmod.reset(ctx, dry, retries)


@gtask(
    help={
        **TARGET_HELP,
        "retries": "reruns while hosts fail (default 0)",
        "dry": "check the version step and show the playbook run, run nothing",
    }
)
def upgrade(c, target=None, retries=None, dry=False):
    """Move the running cluster to group_data's kube_version (kubespray's upgrade-cluster.yml).

    One minor version at a time; no downgrade."""
    from gourmetops.kubespray import upgrade as upgrademod
    from gourmetops.kubespray.checkout import controller_checkout, dry_run_checkout
    from gourmetops.kubespray.overrides import kube_version
    from gourmetops.run import changing

    retries = retries_flag(retries, 0)
    with changing(target, "upgrade", dry) as ctx:
        data = ctx.settings
        fetch = dry_run_checkout if dry else controller_checkout
        checkout = fetch(data.kubespray_source, data.kubespray_ref)
        if checkout is None:
            raise InputError(
                f"dry run: kubespray {data.kubespray_ref} of {data.kubespray_source} is not on "
                "the controller; a real run clones it first"
            )
        wanted = kube_version(checkout, data.kubespray_group_vars)
        upgrademod.upgrade(ctx, dry, wanted, checkout, retries)


@gtask(help=TARGET_HELP)
def registry(c, target=None, dry=False):
    """Private registry on node1:5000 (private address), trusted by every node's Docker/podman."""
    from gourmetops.pyinfra_run import deploy
    from gourmetops.run import changing

    with changing(target, "registry", dry) as ctx:
        deploy(ctx, dry, "registry")


@gtask(help={"target": TARGET_HELP["target"]})
def catalog(c, target=None):
    """List the registry's repositories and their tags (asked over its API from node1)."""
    from gourmetops.context import RunContext
    from gourmetops.registry import stage as registry_stage

    registry_stage.catalog(RunContext(target))


@gtask(
    help={
        **TARGET_HELP,
        "source": "git URL or local directory of the app (default: group_data app_source)",
        "ref": "git ref of the app (default: group_data app_ref)",
        "dry": "say what would be built and pushed, build nothing",
    }
)
def image(c, target=None, source=None, ref=None, dry=False):
    """Build the GourmetGram image on node1, tag it node1:5000/gourmetgram-app, push it."""
    from gourmetops.registry import stage as registry_stage
    from gourmetops.run import changing

    source, ref = flags.source("source", source), flags.git_ref("ref", ref)
    with changing(target, "image", dry) as ctx:
        registry_stage.image(ctx, dry, source, ref)
