"""The cluster stage: kubespray's playbook run from node1 in its virtualenv (the tutorial's
"Install Kubernetes"), progress shown, the whole log kept, retried while hosts fail; in the
lab, then the stand-in for kubespray's container-engine role (deploys/lab_container_engine.py).
`fab up` skips it when node1's record shows a finished run with what node1 has now
(kubespray/record.py) and, where it installs Kubernetes, every node Ready as asked."""

from __future__ import annotations

from dataclasses import dataclass

from gourmetops.context import RunContext
from gourmetops.errors import GourmetopsError, StageFailed
from gourmetops.kubespray import join as joining
from gourmetops.kubespray import readiness
from gourmetops.kubespray import record as records
from gourmetops.kubespray.join import Join
from gourmetops.kubespray.overrides import INVENTORY
from gourmetops.kubespray.playbook import PlaybookFailed, PlaybookRun, run_with_retries
from gourmetops.output import say
from gourmetops.pyinfra_run import deploy


@dataclass(frozen=True)
class Decision:
    run: bool
    why: str  # said either way
    current: records.Record | None  # what node1 has now (recorded after a finished run)
    join: Join | None = None  # new workers only: scale.yml limited to them, not the playbook


def read_records(
    ctx: RunContext, playbook: str
) -> tuple[records.Record | None, records.Record | None]:
    """(what node1 has now, the last finished run's record): one command on node1."""
    nodes = tuple(n.name for n in ctx.target.cluster.nodes)
    command = records.read_command(ctx.settings.kubespray_dir)
    out = ctx.connect().run(command, hide=True, warn=True, in_stream=False).stdout
    return records.parse(out, playbook, nodes)


def _wanted_version(ctx: RunContext) -> str | None:
    """kube_version as the kubespray checked out on the controller installs it (an override,
    else its sample's), or None when the controller has no checkout (nothing is fetched)."""
    from gourmetops.kubespray.checkout import dry_run_checkout
    from gourmetops.kubespray.overrides import kube_version

    data = ctx.settings
    checkout = dry_run_checkout(data.kubespray_source, data.kubespray_ref)
    return kube_version(checkout, data.kubespray_group_vars) if checkout else None


def _nodes(ctx: RunContext) -> tuple[dict[str, tuple[bool, str]] | None, str]:
    """Node name -> (Ready, kubelet version), read once on node1; or None and why not."""
    result = ctx.connect().run(readiness.NODES_COMMAND, hide=True, warn=True, in_stream=False)
    if result.failed:
        return None, f"cannot list the nodes on node1 ({result.stderr.strip()[-200:]})"
    try:
        return readiness.node_states(result.stdout), ""
    except readiness.NodeListError as exc:
        return None, str(exc)


def upgrade_needed(states: dict[str, tuple[bool, str]], wanted: str | None, target: str) -> None:
    """A cluster at another version than kube_version is not for cluster.yml: say so."""
    from gourmetops.kubespray.upgrade import oldest_version

    running = oldest_version(states)
    if wanted and running and running != wanted:
        raise StageFailed(
            f"the cluster runs {running} and kube_version asks for {wanted}: cluster.yml does "
            f"not upgrade a running cluster; run `fab upgrade --target {target}` "
            "(kubespray's upgrade-cluster.yml, one minor version at a time)"
        )


def removed_nodes_message(gone: list[str], target: str) -> str:
    """A node left cluster.yaml but not the cluster: cluster.yml would drop it from the
    inventory and leave it joined. `fab nodes.remove` runs kubespray's remove-node.yml."""
    fixes = " and ".join(f"`fab nodes.remove {n} --target {target}`" for n in gone)
    return (
        f"{', '.join(gone)} left cluster.yaml but the cluster's last run had "
        f"{'them' if len(gone) > 1 else 'it'} as nodes: run {fixes} (kubespray's "
        f"remove-node.yml drains and removes {'them' if len(gone) > 1 else 'it'}), or put "
        f"{', '.join(gone)} back in cluster.yaml"
    )


def decide(ctx: RunContext) -> Decision:
    """Run the playbook, or skip it: what node1 has against the last finished run's record,
    then (where it installs Kubernetes) the nodes themselves, read once."""
    current, saved = read_records(ctx, ctx.settings.cluster_playbook)
    if current is None:
        return Decision(True, "node1 has no kubespray checkout with an inventory yet", current)
    if saved is None:
        return Decision(True, "no finished run of it is recorded on node1", current)
    gone = [n for n in saved.nodes if n not in current.nodes]
    if gone:  # --redo too: cluster.yml would leave them joined
        raise StageFailed(removed_nodes_message(gone, ctx.name))
    states, unread = _nodes(ctx) if ctx.installs_kubernetes else (None, "")
    wanted = _wanted_version(ctx) if states else None
    if states:
        upgrade_needed(states, wanted, ctx.name)
    if "cluster" in ctx.redo:
        return Decision(True, "asked for with --redo cluster", current)
    join, why = joining.plan(ctx.target.cluster, saved, current, current.playbook)
    if why:
        return Decision(True, why, current, join)
    changed = records.differences(saved, current)
    if changed:
        return Decision(True, f"changed since {saved.finished}: {'; '.join(changed)}", current)
    line = f"unchanged since {saved.finished} (kubespray {current.kubespray[:10]}"
    line += f", {len(current.nodes)} nodes, {current.playbook})"
    if ctx.installs_kubernetes:
        names = [n.name for n in ctx.target.cluster.nodes]
        ok, said = readiness.summary(states, names, wanted) if states else (False, unread)
        if not ok:
            return Decision(True, f"unchanged, but {said}", current)
        line += f", {said}"
    return Decision(False, line, current)


def looks_unchanged(ctx: RunContext) -> bool:
    """Whether the cluster stage would be skipped, read before any stage ran; False when
    it would run, or node1 cannot tell (the pre-checks then run and say why)."""
    try:
        return not decide(ctx).run
    except GourmetopsError:
        return False


def cluster_unless_unchanged(ctx: RunContext, dry: bool) -> str | None:
    """`fab up`'s cluster stage: skipped, said in one line and as "unchanged" in the stage
    table, when `decide` finds nothing to do; `fab cluster` (asked for by name) always runs.
    Before it runs, `fab up`'s pre-checks if they waited for it (stages._pre_checks)."""
    decision = decide(ctx)
    if not decision.run:
        say(f"==> cluster: {decision.why}; not run again (`fab up --redo cluster` runs it)")
        return "unchanged"
    if ctx.deferred_checks is not None:
        ctx.deferred_checks()
    if decision.join and decision.current:
        say(f"==> cluster: {'would ' if dry else ''}{decision.why}")
        joining.run(ctx, dry, decision.join, decision.current)
        return None
    verb = "would run" if dry else "running"
    say(f"==> cluster: {verb} {ctx.settings.cluster_playbook}: {decision.why}")
    cluster(ctx, dry, current=decision.current)
    return None


def cluster(
    ctx: RunContext,
    dry: bool,
    playbook: str | None = None,
    current: records.Record | None = None,
) -> None:
    """The playbook (the target's cluster playbook unless named), retried; node1's record
    is dropped before and written after it finished, so `fab up` can skip it next time."""
    data = ctx.settings
    run = PlaybookRun(
        kubespray_dir=data.kubespray_dir,
        venv=data.kubespray_venv,
        inventory=f"{INVENTORY}/hosts.yaml",
        playbook=playbook or data.cluster_playbook,
        forks=len(ctx.target.cluster.nodes),
        prelude=records.forget_command(),
    )
    retries = ctx.cluster_retries
    if dry:
        times = f"up to {retries + 1} time(s)"
        say(f"would run on {ctx.head} ({ctx.name}), {times}:\n  {run.command()}")
        if data.container_engine == "lab":
            deploy(ctx, dry, "lab_container_engine")
        return
    if current is None or current.playbook != run.playbook:
        try:
            current, _ = read_records(ctx, run.playbook)
        except GourmetopsError:
            current = None  # node1 unreachable now: the retries below say so; no record
    conn = ctx.connect()
    try:
        recap = run_with_retries(conn, run, ctx.state_dir / "logs", retries=retries)
    except PlaybookFailed as exc:
        raise StageFailed(f"cluster failed on target {ctx.name}: {exc}") from None
    say(
        f"==> {run.playbook}: "
        + ", ".join(f"{h.host} ok={h.ok} changed={h.changed}" for h in recap.values())
    )
    if data.container_engine == "lab":
        # What kubespray's container-engine role does on a real node (see the deploy).
        deploy(ctx, dry, "lab_container_engine")
    if current is not None:
        conn.run(records.save_command(current, data.kubespray_dir), hide=True, in_stream=False)
