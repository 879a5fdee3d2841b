"""`fab upgrade`: a running cluster moved to the kube_version asked for with kubespray's
upgrade-cluster.yml, one minor version at a time as kubespray's docs require; `fab up`
stops and points here when the versions differ (cluster.yml does not upgrade a cluster).

    >>> step_refused("v1.29.5", "v1.30.4", ["v1.29.5", "v1.30.4"])     # one minor up: fine
    >>> step_refused("v1.28.2", "v1.30.4", ["v1.28.2", "v1.30.4"])[:40]
    'kube_version v1.30.4 skips a minor versi'
"""

from __future__ import annotations

import re
from pathlib import Path

from gourmetops.bounded import read_capped
from gourmetops.context import RunContext
from gourmetops.errors import InputError, StageFailed
from gourmetops.kubespray import readiness
from gourmetops.kubespray import record as records
from gourmetops.kubespray.overrides import INVENTORY
from gourmetops.kubespray.playbook import PlaybookFailed, PlaybookRun, run_with_retries
from gourmetops.output import say

PLAYBOOK = "upgrade-cluster.yml"
# kubespray's docs/operations/upgrades.md, "Multiple upgrades"
RULE = (
    '"Do not skip minor releases (patches releases are ok) when upgrading--upgrade by one '
    'tag at a time." (kubespray, docs/operations/upgrades.md)'
)
CHECKSUMS = "roles/kubespray-defaults/defaults/main/checksums.yml"
_VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)", re.ASCII)


def _key(version: str) -> tuple[int, int, int]:
    m = _VERSION.fullmatch(version)
    if not m:
        raise InputError(f"{version!r} is not a Kubernetes version like v1.30.4")
    return int(m[1]), int(m[2]), int(m[3])


def known_versions(checkout: Path) -> list[str]:
    """The kube_versions this kubespray can install: those it has kubelet checksums for."""
    text = read_capped(checkout / CHECKSUMS).decode()
    block = text.split("\nkubelet_checksums:", 1)[-1].split("\n  amd64:", 1)[-1]
    found = []
    for line in block.splitlines()[1:]:
        m = re.fullmatch(r" {4}(v\d+\.\d+\.\d+): .*", line, re.ASCII)
        if not m:
            break
        found.append(m[1])
    return sorted(found, key=_key)


def step_refused(running: str, wanted: str, known: list[str]) -> str | None:
    """Why upgrading `running` to `wanted` is refused, or None when kubespray allows it."""
    if wanted not in known:
        span = f"{known[0]} to {known[-1]}" if known else "none"
        return (
            f"kube_version {wanted} is not one the checked-out kubespray knows (it has "
            f"checksums for {span}); pick one of those, or move kubespray_ref"
        )
    if _key(wanted) == _key(running):
        return f"the cluster runs {running} already: nothing to upgrade"
    if _key(wanted) < _key(running):
        return (
            f"kube_version {wanted} is older than the cluster's {running}: "
            "kubespray does not downgrade"
        )
    if _key(wanted)[:1] != _key(running)[:1] or _key(wanted)[1] > _key(running)[1] + 1:
        return f"kube_version {wanted} skips a minor version from the cluster's {running}: {RULE}"
    return None


def oldest_version(states: dict[str, tuple[bool, str]]) -> str | None:
    """The oldest kubelet version among the nodes (a half-done upgrade goes on from it)."""
    versions = [v for _ready, v in states.values() if _VERSION.fullmatch(v)]
    return min(versions, key=_key) if versions else None


def running_version(ctx: RunContext) -> str:
    result = ctx.connect().run(readiness.NODES_COMMAND, hide=True, warn=True, in_stream=False)
    if result.failed:
        raise StageFailed(f"cannot list the nodes on node1: {result.stderr.strip()[-200:]}")
    running = oldest_version(readiness.node_states(result.stdout))
    if running is None:
        raise StageFailed("no node is registered: install with `fab up` first")
    return running


def upgrade(ctx: RunContext, dry: bool, wanted: str, checkout: Path, retries: int = 0) -> None:
    """upgrade-cluster.yml from node1, once `step_refused` allows the step; the record is
    then written as for the cluster playbook, so the next `fab up` skips the install."""
    if not ctx.installs_kubernetes:
        raise InputError(f"{ctx.name}'s cluster stage installs no Kubernetes: nothing to upgrade")
    running = running_version(ctx)
    refused = step_refused(running, wanted, known_versions(checkout))
    if refused:
        raise InputError(f"upgrade refused: {refused}")
    data = ctx.settings
    run = PlaybookRun(
        data.kubespray_dir, data.kubespray_venv, f"{INVENTORY}/hosts.yaml", PLAYBOOK,
        forks=len(ctx.target.cluster.nodes), prelude=records.forget_command(),
    )  # fmt: skip
    if dry:
        say(f"would upgrade {running} -> {wanted} on {ctx.head} ({ctx.name}):\n  {run.command()}")
        return
    from gourmetops.kubespray.stage import read_records

    current, _ = read_records(ctx, data.cluster_playbook)
    conn = ctx.connect()
    try:
        run_with_retries(conn, run, ctx.state_dir / "logs", retries=retries)
    except PlaybookFailed as exc:
        raise StageFailed(f"upgrade failed on target {ctx.name}: {exc}") from None
    if current is not None:
        conn.run(records.save_command(current, data.kubespray_dir), hide=True, in_stream=False)
    say(f"upgrade: {running} -> {wanted} on {ctx.name}")
