"""The ports kubespray and the registry need: free on each node (or already held by the
component that needs them, on a rerun), and reachable from every peer over the private
network. Reachability is one parallel ssh round: each node starts short-lived listeners on
its free needed ports and connects to its peers' ports, retrying until a shared deadline."""

from __future__ import annotations

import json
import shlex
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from gourmetops.check.parse import Listener
from gourmetops.check.rows import Row

# Kubernetes' well-known ports (kubeadm's defaults, which kubespray keeps) by role, and the
# process that holds each once installed (comm names, cut at 15 characters by the kernel).
ROLE_PORTS = {
    "kube_control_plane": ((6443, "kube-apiserver"), (10257, "kube-controller"),
                           (10259, "kube-scheduler")),
    "etcd": ((2379, "etcd"), (2380, "etcd")),
    "kube_node": ((10250, "kubelet"),),
}  # fmt: skip
REGISTRY_OWNERS = ("docker-proxy", "registry", "docker-registry")
# How long listeners wait for peers and connects retry. Each node's round starts when its
# own ssh does (workers later, through the jump host), so this also covers that skew on a
# busy controller; a healthy round ends as soon as every peer has connected.
REACH_DEADLINE_S = 10.0
FIREWALLED_FOUND = "not probed: firewalld, active on it, would drop them"
FIREWALLED_FIX = "`fab prepare` stops firewalld; `fab check` then probes them"


@dataclass(frozen=True)
class Port:
    number: int
    owners: tuple[str, ...]  # processes that may hold it (the component itself)


def needed(roles: tuple[str, ...], registry_port: int | None) -> list[Port]:
    """The ports a node with `roles` needs (the registry's on the registry host only)."""
    ports = {n: Port(n, (owner,)) for r in roles for n, owner in ROLE_PORTS.get(r, ())}
    if registry_port:
        ports[registry_port] = Port(registry_port, REGISTRY_OWNERS)
    return sorted(ports.values(), key=lambda p: p.number)


def _holders(port: int, listening: list[Listener]) -> list[Listener]:
    return [x for x in listening if x.port == port]


def _ours(holder: Listener, port: Port) -> bool:
    return any(holder.process.startswith(f"{o} ") for o in port.owners)


def free_row(node: str, ports: list[Port], listening: list[Listener]) -> Row:
    free, held, taken = [], [], []
    for port in ports:
        holders = _holders(port.number, listening)
        if not holders:
            free.append(str(port.number))
        elif all(_ours(h, port) for h in holders):
            held.append(f"{port.number} by {holders[0].process.split(' ')[0]}")
        else:
            who = ", ".join(f"{h.process or 'unknown process'} on {h.address}" for h in holders)
            taken.append(f"{port.number} by {who}")
    found = "; ".join(
        [f"free: {' '.join(free)}"] * bool(free)
        + [f"already held by their component: {', '.join(held)}"] * bool(held)
        + [f"taken: {'; '.join(taken)}"] * bool(taken)
    )
    fix = f"stop what listens on {node} (`sudo ss -ltnp`): kubespray/the registry need the port"
    return Row(node, "ports-free", found, not taken, "" if not taken else fix)


def reach_plan(
    ports: Mapping[str, list[Port]],
    listening: Mapping[str, list[Listener]],
    addresses: Mapping[str, str],
    firewalled: Collection[str] = (),
) -> dict[str, dict]:
    """Per reachable node: what it listens on (its free needed ports) and which peer ports
    it connects to (free ones, or ones held by their component on a non-loopback address).
    Nodes in `firewalled` (firewalld active) only connect: firewalld would drop what comes
    in until a deadline that says nothing `prepare`, which stops it, leaves standing."""
    testable: dict[str, dict[int, str]] = {}  # node -> port -> listen | held
    for node, needs in ports.items():
        if node not in listening:
            continue
        testable[node] = {}
        for port in needs:
            holders = _holders(port.number, listening[node])
            if not holders:
                testable[node][port.number] = "listen"
            elif all(_ours(h, port) and not h.address.startswith("127.") for h in holders):
                testable[node][port.number] = "held"
    plan = {}
    for node in testable:
        peers = [p for p in testable if p != node]
        probed = [p for p in peers if p not in firewalled]
        listens = [] if node in firewalled else testable[node].items()
        plan[node] = {
            "listen": [[addresses[node], n] for n, how in listens if how == "listen"],
            "address": addresses[node],
            "expect": len(peers),
            "connect": [[p, addresses[p], n] for p in probed for n in sorted(testable[p])],
            "deadline": REACH_DEADLINE_S,
        }
    return plan


# Runs on each node under python3: listeners up first, then connects from the node's own
# address with retries until the deadline (a peer's listener may start a moment later). A
# connection accepted from a peer proves all that peer's listeners are open (it connects only
# after), so a refusal from it after that is final rather than waited out. Exits as soon as
# every peer has connected to every listener and every connect is settled; prints one JSON.
REACH_SCRIPT = r"""
import json, selectors, socket, sys, threading, time
plan = json.loads(sys.argv[1]); end = time.monotonic() + plan["deadline"]
sel, seen, out = selectors.DefaultSelector(), {}, {"bind": {}, "connect": []}
up = {addr: threading.Event() for _peer, addr, _port in plan["connect"]}
for addr, port in plan["listen"]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, port)); s.listen(16); s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, port); seen[port] = 0
    except OSError as exc:
        out["bind"][str(port)] = str(exc)
def connect(peer, addr, port):
    err = "no attempt"
    while time.monotonic() < end:
        final = up[addr].is_set()
        try:
            socket.create_connection((addr, port), 0.5, (plan["address"], 0)).close()
            err = ""; break
        except OSError as exc:
            err = str(exc) or type(exc).__name__
            if final and not isinstance(exc, socket.timeout): break
            up[addr].wait(0.1)
    out["connect"].append([peer, port, err])
threads = [threading.Thread(target=connect, args=c) for c in plan["connect"]]
for t in threads: t.start()
while time.monotonic() < end and not (all(n >= plan["expect"] for n in seen.values())
                                      and not any(t.is_alive() for t in threads)):
    for key, _ in sel.select(timeout=0.05):
        conn, (peer_addr, _) = key.fileobj.accept(); conn.close(); seen[key.data] += 1
        if peer_addr in up: up[peer_addr].set()
for t in threads: t.join()
print(json.dumps(out))
"""


def reach_command(plan: dict) -> str:
    return shlex.join(["python3", "-c", REACH_SCRIPT, json.dumps(plan)])


def reach_rows(
    plan: Mapping[str, dict],
    results: Mapping[str, dict | str],
    firewalled: Collection[str] = (),
) -> list[Row]:
    """One row per node whose ports were reached: from which peers each port answered.
    `results[node]` is the node's JSON, or the reason its round did not run. Nodes in
    `firewalled` were not probed (see reach_plan): `prepare` stops firewalld first."""
    failures: dict[str, list[str]] = {n: [] for n in plan}
    tested: dict[str, set[int]] = {n: set() for n in plan}
    # peer -> error -> port -> the nodes that saw it: at twelve nodes one blocked node is
    # 77 (port, peer) pairs, said as one line per error and set of peers.
    refused: dict[str, dict[str, dict[int, set[str]]]] = {n: {} for n in plan}
    for node, result in results.items():
        if isinstance(result, str):
            failures[node].append(f"not tested: {result}")
            continue
        for port, err in result.get("bind", {}).items():
            failures[node].append(f"{port}: cannot listen ({err})")
        for peer, port, err in result.get("connect", []):
            tested[peer].add(port)
            if err:
                refused[peer].setdefault(err, {}).setdefault(port, set()).add(node)
    order = list(plan)
    for peer, by_error in refused.items():
        for err, by_port in by_error.items():
            groups: dict[frozenset[str], list[int]] = {}
            for port, seen_by in sorted(by_port.items()):
                groups.setdefault(frozenset(seen_by), []).append(port)
            for nodes, ports_ in groups.items():
                failures[peer].append(
                    f"{' '.join(map(str, ports_))} from {_peers(nodes, peer, order)}: {err}"
                )
    rows = []
    for node in plan:
        if node in firewalled:  # left out of the round by reach_plan
            rows.append(
                Row(node, "ports-reach", FIREWALLED_FOUND, False, FIREWALLED_FIX, "prepare")
            )
            continue
        ports = " ".join(str(p) for p in sorted(tested[node])) or "none"
        bad = failures[node]
        found = "; ".join(bad) if bad else f"{ports} answer from every peer"
        if not bad:
            rows.append(Row(node, "ports-reach", found, True))
        else:
            fix = f"open these TCP ports on {node} to the private network (firewall, cloud rules)"
            rows.append(Row(node, "ports-reach", found, False, fix))
    return rows


def _peers(nodes: Collection[str], node: str, order: list[str]) -> str:
    """`nodes` in cluster order, or "every peer (N)" past three when that is all of them."""
    if len(nodes) > 3 and set(nodes) == set(order) - {node}:
        return f"every peer ({len(nodes)})"
    return ", ".join(n for n in order if n in nodes)
