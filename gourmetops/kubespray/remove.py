"""`fab nodes.remove NAME`: kubespray's remove-node.yml (drain, reset, delete the node) for a
node of the cluster's last finished run, as its docs/operations/nodes.md (release-2.26) says:
"With the old node still in the inventory, run `remove-node.yml`. You need to pass
`-e node=NODE_NAME` to the playbook". Its pause for a typed "yes" is skipped with
skip_confirmation (playbooks/remove_node.yml): our own question, the target's name typed or
--yes, comes first. node1 is refused: every node is reached through it, and "you can't
remove the first node in your kube_control_plane and etcd-master list".

When the node already left cluster.yaml, `fab kubespray` has written hosts.yaml without it:
the last run's hosts.yaml (kept beside node1's record) goes back first, and once the node
is gone hosts.yaml is cluster.yaml's again. The record then lists the node no more.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any, TextIO

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent

from gourmetops.cluster import Cluster
from gourmetops.confirm import confirm as asked
from gourmetops.context import RunContext
from gourmetops.errors import InputError, StageFailed
from gourmetops.kubespray import record as records
from gourmetops.kubespray.inventory import hosts_yaml
from gourmetops.kubespray.join import sha256, without
from gourmetops.kubespray.playbook import PlaybookFailed, PlaybookRun, run_with_retries
from gourmetops.output import say
from gourmetops.validation import HOSTNAME
from gourmetops.yamlio import dump

PLAYBOOK = "remove-node.yml"
# remove_node.yml's "Confirm Execution" pauses unless this is true (its when: clause)
CONFIRMED = ("skip_confirmation", "true")
# nodes.md: "If the node you want to remove is not online, you should add ..."
OFFLINE = (("reset_nodes", "false"), ("allow_ungraceful_removal", "true"))
FIRST = (
    'kubespray cannot remove the first node of kube_control_plane or etcd ("Currently you '
    "can't remove the first node in your kube_control_plane and etcd-master list\", "
    "docs/operations/nodes.md)"
)
NOT_WORKER_ROLES = ("kube_control_plane", "etcd")


def refused(cluster: Cluster, name: str) -> None:
    """What cluster.yaml alone refuses, before the question: no node name, the jump host, or
    the first control-plane or etcd node."""
    if not HOSTNAME.fullmatch(name):
        raise InputError(f"nodes.remove {name[:70]!r}: not a node name (like node4)")
    firsts = {
        next((n.name for n in cluster.nodes if role in n.roles), "") for role in NOT_WORKER_ROLES
    }
    if name == cluster.jump.name:
        raise InputError(
            f"{name} cannot be removed: it is the jump host, through which every other node "
            "is reached" + (f"; and {FIRST}" if name in firsts else "")
        )
    if name in firsts:
        raise InputError(f"{name} cannot be removed: {FIRST}")


def confirm(target: str, name: str, yes: bool, stdin: TextIO | None = None) -> None:
    warning = (
        f"fab nodes.remove drains {name}, removes Kubernetes from it and deletes it from "
        f"the cluster of {target!r} (kubespray's remove-node.yml)."
    )
    asked(target, yes, warning, f"removal of {name} from {target!r}", stdin)


def parse_hosts(text: str | None) -> dict[str, Any] | None:
    """A hosts.yaml read from node1 as plain data; None when absent, not YAML, not an
    inventory, or with aliases (a few nest into billions of nodes)."""
    if text is None:
        return None
    yaml = YAML(typ="safe", pure=True)
    try:
        if any(isinstance(e, AliasEvent) for e in yaml.parse(text)):
            return None
        data = yaml.load(text)
    except YAMLError:
        return None
    ok = isinstance(data, dict) and isinstance(data.get("all"), dict)
    return data if ok and isinstance(data["all"].get("hosts"), dict) else None


def group(data: dict[str, Any], name: str) -> list[str]:
    hosts = ((data["all"].get("children") or {}).get(name) or {}).get("hosts") or {}
    return list(hosts) if isinstance(hosts, dict) else []


def less(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The inventory without `name`: gone from all.hosts and from every group."""
    out = copy.deepcopy(data)
    out["all"]["hosts"].pop(name, None)
    for child in (out["all"].get("children") or {}).values():
        if isinstance(child, dict) and isinstance(child.get("hosts"), dict):
            child["hosts"].pop(name, None)
    return out


@dataclass(frozen=True)
class Removal:
    name: str
    run: PlaybookRun
    put_back: str | None  # the last run's hosts.yaml, written first: node1's lacks the node
    regenerate: str | None  # cluster.yaml's hosts.yaml, written after: cluster.yaml lacks it
    record: records.Record  # written after the playbook finished, with `kept`
    kept: str  # the inventory less the node, kept beside the record
    next_up: str  # what the next `fab up` does with the cluster playbook, and why


def _inventory(name: str, now: str | None, kept: str | None) -> tuple[dict[str, Any], bool]:
    """The inventory remove-node.yml runs with, and whether it is the kept one put back."""
    for text, put_back in ((now, False), (kept, True)):
        data = parse_hosts(text)
        if data is not None and name in data["all"]["hosts"]:
            return data, put_back
    raise InputError(
        f"{name} is in neither node1's hosts.yaml nor the copy kept from the last run, and "
        "remove-node.yml needs it in the inventory: put it back in cluster.yaml, run "
        f"`fab kubespray`, then `fab nodes.remove {name}` again"
    )


def _last_run(saved: records.Record, now: str | None, kept: str | None) -> dict[str, Any] | None:
    """The hosts.yaml of the last finished run: the copy kept with the record, else node1's
    when its bytes are the recorded ones (a record written before copies were kept)."""
    if kept is not None:
        return parse_hosts(kept)
    recorded = now is not None and sha256(now) == saved.files.get(records.HOSTS)
    return parse_hosts(now) if recorded else None


def _record_after(
    cluster: Cluster, saved: records.Record, name: str, last: dict[str, Any] | None, worker: bool
) -> tuple[records.Record, str]:
    """The record less the node. Its hosts.yaml becomes cluster.yaml's less the node only when
    that is the last run's less the node and the node was a worker; else the old one stays
    and the next `fab up` runs the playbook (after an etcd or control-plane node kubespray's
    nodes.md runs cluster.yml "to regenerate the configuration files on all remaining nodes")."""
    wanted = hosts_yaml(without(cluster, (name,)))
    nodes = tuple(n for n in saved.nodes if n != name)
    if not worker:
        why = f"{name} was a control-plane or etcd node: kubespray's nodes.md runs cluster.yml"
    elif last is None or less(last, name) != parse_hosts(wanted):
        why = f"cluster.yaml differs from the last run's inventory by more than {name}"
    else:
        files = {**saved.files, records.HOSTS: sha256(wanted)}
        done = f"skips {saved.playbook} when cluster.yaml has no {name} and nothing else changed"
        return replace(saved, files=files, nodes=nodes), done
    return replace(saved, nodes=nodes), f"runs {saved.playbook} again ({why})"


def plan(
    ctx: RunContext,
    name: str,
    saved: records.Record | None,
    now: str | None,
    kept: str | None,
    offline: bool = False,
) -> Removal:
    """What removing `name` takes, from node1's record and inventories; refused (InputError)
    for a node not in the record, not in any inventory, or first in its group."""
    cluster, data = ctx.target.cluster, ctx.settings
    refused(cluster, name)
    if saved is None:
        raise InputError(
            f"no finished cluster run is recorded on {ctx.head}: no node is known to be "
            f"joined, so {name} is not removed (`fab up` first)"
        )
    if name not in saved.nodes:
        raise InputError(
            f"{name} is not a node of the cluster's last run (node1's record: "
            f"{', '.join(saved.nodes)}): nothing to remove"
        )
    inventory, put_back = _inventory(name, now, kept)
    if name in group(inventory, "kube_control_plane")[:1] + group(inventory, "etcd")[:1]:
        raise InputError(f"{name} cannot be removed: {FIRST}")
    last = _last_run(saved, now, kept)
    worker = not any(name in group(inventory, g) for g in NOT_WORKER_ROLES)
    record, next_up = _record_after(cluster, saved, name, last, worker)
    extra = (("node", name), CONFIRMED, *(OFFLINE if offline else ()))
    where = (data.kubespray_dir, data.kubespray_venv, records.HOSTS)
    run = PlaybookRun(*where, PLAYBOOK, forks=len(saved.nodes), extra_vars=extra)
    gone = name not in {n.name for n in cluster.nodes}
    return Removal(
        name=name,
        run=run,
        put_back=kept if put_back else None,
        regenerate=hosts_yaml(cluster) if gone else None,
        record=record,
        kept=dump(less(last or inventory, name)),
        next_up=next_up,
    )


def steps(ctx: RunContext, removal: Removal) -> list[tuple[str, PlaybookRun | str]]:
    """The plan as the dry run prints it and the real run follows: (words, the playbook run
    or the shell command for node1)."""
    name, hosts = removal.name, f"{ctx.settings.kubespray_dir}/{records.HOSTS}"
    out: list[tuple[str, PlaybookRun | str]] = []
    if removal.put_back:
        why = f"remove-node.yml needs {name} in the inventory; cluster.yaml's has it no more"
        put = records.write_command(hosts, removal.put_back, "644")
        out.append((f"put the last run's hosts.yaml back on {ctx.head} ({why})", put))
    out.append((f"remove {name} with {PLAYBOOK} -e node={name}", removal.run))
    if removal.regenerate:
        put = records.write_command(hosts, removal.regenerate, "644")
        out.append((f"regenerate hosts.yaml from cluster.yaml, without {name}", put))
    said = f"{ctx.head}'s record: nodes {', '.join(removal.record.nodes)}; the next `fab up` "
    out.append(
        (said + removal.next_up, records.save_with_inventory_command(removal.record, removal.kept))
    )
    return out


def remove(ctx: RunContext, name: str, dry: bool, retries: int = 0, offline: bool = False) -> None:
    """Read node1's record and inventories, say the plan, and (unless `dry`) follow it; the
    record is written only once remove-node.yml finished, so a failed run can be run again."""
    from gourmetops.kubespray.stage import read_records

    data = ctx.settings
    _, saved = read_records(ctx, data.cluster_playbook)
    read = ctx.connect().run(
        records.inventory_command(data.kubespray_dir), hide=True, warn=True, in_stream=False
    )
    removal = plan(ctx, name, saved, *records.parse_inventories(read.stdout), offline)
    planned = steps(ctx, removal)
    say(f"{'would run' if dry else 'running'} on {ctx.head} ({ctx.name}):")
    for i, (what, step) in enumerate(planned, 1):
        shown = f":\n     {step.command()}" if isinstance(step, PlaybookRun) else ""
        say(f"  {i}. {what}{shown}")
    if dry:
        return
    conn = ctx.connect()
    for _what, step in planned:
        if isinstance(step, str):
            conn.run(step, hide=True, in_stream=False)
            continue
        try:
            run_with_retries(conn, step, ctx.state_dir / "logs", retries)
        except PlaybookFailed as exc:
            raise StageFailed(
                f"removing {name} failed on target {ctx.name}: {exc}; node1's record still has "
                f"{name}: `fab nodes.remove {name} --target {ctx.name}` runs it again"
                + ("" if offline else " (add --offline for a node that is not online)")
            ) from None
    say(told(ctx, removal))


def told(ctx: RunContext, removal: Removal) -> str:
    """What the user does next: take the node out of cluster.yaml, unless it is out already."""
    name = removal.name
    if removal.regenerate:
        return f"nodes.remove: {name} removed from {ctx.name}; hosts.yaml is cluster.yaml's again"
    return (
        f"nodes.remove: {name} removed from {ctx.name}. Now take {name} out of "
        f"{ctx.target.cluster.source}: while it is there, `fab up` joins it again"
    )
