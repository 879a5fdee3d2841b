"""Runs the checks: one ssh per node in parallel for the facts, then (pre) one more
parallel round for port reachability, so the time stays about flat as nodes are added.
A node ssh cannot reach becomes a failed `ssh` row naming ssh's own error."""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from gourmetops import unreachable
from gourmetops.check import parse, ports, post, pre, probe
from gourmetops.check.limits import Limits
from gourmetops.check.rows import Row, check_names, skip
from gourmetops.check_names import WHEN
from gourmetops.context import RunContext
from gourmetops.targets import Target

SSH_TIMEOUT_S = 30.0
# ssh's own connect timeout per hop: an unreachable node fails fast, not after 10 s.
SSH_OPTIONS = ("-o", "ConnectTimeout=5")
# Every node is probed at once, each through node1: until prepare sizes node1's sshd
# (gourmetops.jump), its stock MaxStartups drops some of those before the banner. A retry
# waits longer each time, at a random moment, so the retries do not all land together.
DROPPED = "kex_exchange_identification"
DROP_RETRIES = 4
DROP_BACKOFF_S = 0.3


@dataclass(frozen=True)
class Reply:
    node: str
    rc: int
    out: str
    err: str
    started: float  # controller wall clock around the call (for the clock check)
    ended: float

    @property
    def reached(self) -> bool:
        return self.rc != 255  # ssh's own failures; our scripts exit 0


def ssh_all(target: Target, commands: Mapping[str, tuple[str, str | None]]) -> dict[str, Reply]:
    """{node: (remote command, stdin)} run at once; every node answers, however it fails."""

    def once(node: str, command: str, stdin: str | None) -> Reply:
        started = time.time()
        try:
            proc = subprocess.run(
                target.ssh_argv(node, command, options=SSH_OPTIONS),
                input=stdin or "",
                capture_output=True,
                text=True,
                timeout=SSH_TIMEOUT_S,
            )
            return Reply(node, proc.returncode, proc.stdout, proc.stderr, started, time.time())
        except subprocess.TimeoutExpired:
            return Reply(node, 255, "", f"no answer in {SSH_TIMEOUT_S:g} s", started, time.time())

    def one(node: str, command: str, stdin: str | None) -> Reply:
        reply = once(node, command, stdin)
        for attempt in range(DROP_RETRIES):
            # Not when the jump host refused outright: ssh then says both (ProxyJump's own
            # "kex_exchange_identification" follows node1's "Connection refused").
            dropped = unreachable.cause_in(reply.err) == unreachable.DROPPED
            if reply.reached or DROPPED not in reply.err or not dropped:
                break
            # dropped before login, so nothing ran: up to 0.6, 1.2, 2.4, 4.8 s
            time.sleep(random.uniform(DROP_BACKOFF_S, 2 * DROP_BACKOFF_S) * 2**attempt)
            reply = once(node, command, stdin)
        return reply

    with ThreadPoolExecutor(max_workers=max(1, len(commands))) as pool:
        futures = [pool.submit(one, n, c, i) for n, (c, i) in commands.items()]
        return {f.result().node: f.result() for f in futures}


def ssh_error(stderr: str) -> str:
    """The line of ssh's stderr that names the failure: through a jump host the last line is
    only "Connection closed by UNKNOWN port 65535", the cause comes before it."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    named = [x for x in lines if x.startswith(("ssh: ", "channel ")) or "denied" in x
             or "verification failed" in x or "no answer in" in x]  # fmt: skip
    return (named or lines or ["ssh failed"])[0]


def ssh_row(target: Target, reply: Reply) -> Row:
    node = target.cluster.node(reply.node)
    via = "directly" if node.jump else f"through {target.cluster.jump.name} (ProxyJump)"
    if not reply.reached:
        why = ssh_error(reply.err)
        return Row(
            reply.node,
            "ssh",
            f"not reached {via}: {why}",
            False,
            unreachable.ssh_advice(target, reply.node, reply.err),
        )
    if "@@gourmetops:end@@" not in reply.out:
        tail = (reply.err.strip().splitlines() or ["no output"])[-1]
        return Row(
            reply.node,
            "ssh",
            f"reached {via}, probe cut short: {tail}",
            False,
            "run the probe by hand to see why (sh on the node)",
        )
    keys = (
        "host key pinned"
        if target.ssh_options.get("StrictHostKeyChecking") == "yes"
        else ("host key checked against known_hosts")
    )
    return Row(reply.node, "ssh", f"reached {via} as {target.cluster.user}, {keys}", True)


def _registry_host(ctx: RunContext) -> str:
    return str(ctx.settings.registry).rsplit(":", 1)[0]


def pre_rows(ctx: RunContext, limits: Limits) -> list[Row]:
    cluster, settings = ctx.target.cluster, ctx.settings
    addresses = {n.name: str(n.address) for n in cluster.nodes}
    names = {**addresses}
    if _registry_host(ctx) in addresses:
        names[_registry_host(ctx)] = addresses[_registry_host(ctx)]
    disk_paths = ["/", limits.image_dir, limits.etcd_dir]
    script = probe.pre_script(
        names,
        limits.modules.names,
        disk_paths,
        settings.docker_packages,
        settings.docker_apt_source,
    )
    replies = ssh_all(ctx.target, {n: ("sh -s", script) for n in addresses})
    rows, facts = [], {}
    for node in cluster.nodes:
        reply = replies[node.name]
        rows.append(ssh_row(ctx.target, reply))
        if not rows[-1].ok:
            continue
        facts[node.name] = parse.pre(reply.out)
        model = pre.Model(
            node.name,
            tuple(node.roles),
            names,
            limits,
            tuple(settings.docker_packages),
            settings.docker_apt_source,
            node.jump,
            ctx.installs_kubernetes,
            (reply.started, reply.ended),
        )
        rows += pre.judge(facts[node.name], model)
    rows += pre.unique_hostnames(facts)
    registry_host = _registry_host(ctx)
    needs = {
        n.name: ports.needed(
            tuple(n.roles), settings.registry_port if n.name == registry_host else None
        )
        for n in cluster.nodes
    }
    for name, f in facts.items():
        rows.append(ports.free_row(name, needs[name], f.listeners))
    firewalled = {n for n, f in facts.items() if f.firewalld.get("active") == "active"}
    listening = {n: f.listeners for n, f in facts.items()}
    rows += _reach(ctx.target, needs, listening, addresses, firewalled)
    order = {n.name: i for i, n in enumerate(cluster.nodes)}
    checks = {c: i for i, c in enumerate(WHEN["pre"])}
    return sorted(rows, key=lambda r: (order[r.node], checks[r.check]))


def _reach(target: Target, needs, listening, addresses, firewalled: set[str]) -> list[Row]:
    plan = ports.reach_plan(needs, listening, addresses, firewalled)
    if len(plan) < 2:
        return [
            Row(
                n,
                "ports-reach",
                "no peer reached over ssh to connect from",
                False,
                "fix the ssh rows first",
            )
            for n in plan
        ]
    replies = ssh_all(target, {n: (ports.reach_command(p), None) for n, p in plan.items()})
    results: dict[str, dict | str] = {}
    for node, reply in replies.items():
        try:
            results[node] = parse.json_line(reply.out)
        except ValueError:
            results[node] = (reply.err.strip().splitlines() or ["no answer"])[-1]
    return ports.reach_rows(plan, results, firewalled)


def post_rows(ctx: RunContext) -> list[Row]:
    cluster, settings = ctx.target.cluster, ctx.settings
    image = f"{settings.registry}/{settings.app_image}:latest"
    kube = ctx.installs_kubernetes
    units = ("docker", "cri-dockerd") if kube else ("docker",)
    url = post.service_url(ctx) if kube else None
    scripts = {
        n.name: ("sh -s", probe.post_script(units, image, n.jump and kube, url))
        for n in cluster.nodes
    }
    replies = ssh_all(ctx.target, scripts)
    rows = []
    for node in cluster.nodes:
        rows.append(ssh_row(ctx.target, replies[node.name]))
        if rows[-1].ok:
            facts = parse.post(replies[node.name].out)
            rows += post.judge(node.name, facts, units, image, node.jump, cluster, kube)
    return rows


def check(
    ctx: RunContext,
    when: str = "pre",
    skip_checks: Iterable[str] = (),
    limits: Limits | None = None,
    fetch: bool = False,
) -> list[Row]:
    """Every row for `when`; the target's own skips (group_data check_skip) and
    `skip_checks` (--skip-check) are kept as rows marked skipped with their reason.
    kubespray is fetched for its limits only when `fetch` (a run that will change things)."""
    reasons = {n: "--skip-check" for n in check_names(when, skip_checks)}
    reasons = {**{k: v for k, v in ctx.settings.check_skip.items() if k in WHEN[when]}, **reasons}
    if when == "pre":
        from gourmetops.check import limits as limitsmod

        rows = pre_rows(ctx, limits or limitsmod.for_settings(ctx.settings, fetch))
    else:
        rows = post_rows(ctx)
    return skip(rows, reasons)
