"""A node added to cluster.yaml joins a running cluster the way kubespray's
docs/operations/nodes.md (release-2.26) says, as part of `fab up`'s cluster stage plan:

- a worker: "Run `scale.yml` ... You can use `--limit=NODE_NAME` to limit Kubespray to
  avoid disturbing other nodes in the cluster. Before using `--limit` run playbook
  `facts.yml` without the limit to refresh facts cache for all nodes."
- a control plane: "Append the new host to the inventory and run `cluster.yml`. You can
  NOT use `scale.yml` for that." (etcd too: its section runs cluster.yml)

Anything else changed since the recorded run (kubespray's commit, group_vars, another
node's lines in hosts.yaml) needs the whole cluster playbook, which joins the node as well.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from gourmetops.cluster import Cluster
from gourmetops.context import RunContext
from gourmetops.errors import StageFailed
from gourmetops.kubespray import record as records
from gourmetops.kubespray.inventory import hosts_yaml
from gourmetops.kubespray.playbook import PlaybookFailed, PlaybookRun, run_with_retries
from gourmetops.output import say

SCALE = "scale.yml"
FACTS = "playbooks/facts.yml"
NO_SCALE_ROLES = ("kube_control_plane", "etcd")  # nodes.md: cluster.yml, not scale.yml
DOCS = "kubespray's docs/operations/nodes.md"


@dataclass(frozen=True)
class Join:
    """New workers joined with scale.yml limited to them (after facts.yml on every node)."""

    names: tuple[str, ...]

    @property
    def limit(self) -> str:
        return ",".join(self.names)

    def headline(self) -> str:
        return f"join {', '.join(self.names)} with {SCALE} --limit {self.limit}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def without(cluster: Cluster, names: tuple[str, ...]) -> Cluster:
    return replace(cluster, nodes=tuple(n for n in cluster.nodes if n.name not in names))


def other_changes(
    cluster: Cluster, saved: records.Record, current: records.Record, added: tuple[str, ...]
) -> list[str]:
    """What changed since the recorded run besides the added nodes: hosts.yaml counts as
    unchanged when the recorded one is cluster.yaml's less them and node1's is cluster.yaml's
    (so no other node's address or roles moved)."""
    hosts = records.HOSTS
    only_added = saved.files.get(hosts) == sha256(
        hosts_yaml(without(cluster, added))
    ) and current.files.get(hosts) == sha256(hosts_yaml(cluster))
    files = {**saved.files, hosts: current.files[hosts]} if only_added else saved.files
    return records.differences(replace(saved, files=files, nodes=current.nodes), current)


def plan(
    cluster: Cluster, saved: records.Record, current: records.Record, playbook: str
) -> tuple[Join | None, str]:
    """(the scale.yml join, or None for the whole `playbook`; why), for nodes in cluster.yaml
    and not in the recorded run. Nothing added: (None, "")."""
    added = tuple(n for n in current.nodes if n not in saved.nodes)
    if not added:
        return None, ""
    names = ", ".join(added)
    planes = [
        n.name for n in cluster.nodes if n.name in added and set(NO_SCALE_ROLES) & set(n.roles)
    ]
    if planes:
        return None, (
            f"join {names} with {playbook}, not {SCALE}: a control-plane or etcd node "
            f"({', '.join(planes)}) joins with cluster.yml, as {DOCS} says "
            '("You can NOT use scale.yml for that")'
        )
    others = other_changes(cluster, saved, current, added)
    if others:
        return None, (
            f"join {names} with {playbook}, not {SCALE}: besides them, changed since "
            f"{saved.finished}: {'; '.join(others)}"
        )
    join = Join(added)
    return join, f"{join.headline()} (nothing else changed since {saved.finished})"


def runs(ctx: RunContext, join: Join) -> list[tuple[str, PlaybookRun]]:
    """The steps, each said in words: facts.yml on every node, then scale.yml limited to the
    new nodes. The record goes first (in the first command), as for the cluster playbook."""
    data = ctx.settings
    where = (data.kubespray_dir, data.kubespray_venv, records.HOSTS)
    forks = len(ctx.target.cluster.nodes)
    return [
        (
            f"refresh every node's facts ({DOCS}: before --limit, facts.yml without it)",
            PlaybookRun(*where, FACTS, forks=forks, prelude=records.forget_command()),
        ),
        (join.headline(), PlaybookRun(*where, SCALE, forks=forks, limit=join.limit)),
    ]


def run(ctx: RunContext, dry: bool, join: Join, current: records.Record) -> None:
    """The steps from node1, each retried as the cluster playbook is; the record (with the
    new nodes) is written once scale.yml finished, so the next `fab up` skips the stage."""
    from gourmetops.pyinfra_run import deploy

    data = ctx.settings
    steps = runs(ctx, join)
    if dry:
        say(f"would run on {ctx.head} ({ctx.name}), each up to {ctx.cluster_retries + 1} time(s):")
        for i, (what, step) in enumerate(steps, 1):
            say(f"  {i}. {what}:\n     {step.command()}")
    else:
        _run_steps(ctx, steps, join)
    if data.container_engine == "lab":
        # What kubespray's container-engine role does on the new nodes (see the deploy).
        deploy(ctx, dry, "lab_container_engine")
    if not dry:
        save = records.save_command(current, data.kubespray_dir)
        ctx.connect().run(save, hide=True, in_stream=False)
        say(f"==> cluster: {', '.join(join.names)} joined; node1's record has them")


def _run_steps(ctx: RunContext, steps: list[tuple[str, PlaybookRun]], join: Join) -> None:
    for what, step in steps:
        say(f"==> cluster: {what}")
        try:
            run_with_retries(
                ctx.connect(),
                step,
                ctx.state_dir / "logs",
                ctx.cluster_retries,
            )
        except PlaybookFailed as exc:
            raise StageFailed(
                f"cluster failed on target {ctx.name} ({join.headline()}): {exc}"
            ) from None
