"""Pre-install rows for one node: its facts judged against the cluster model and the
limits of the kubespray ref in use. Each rule says in its found text what it measured
and, when it fails, what to do; `converged_by` names the stage of `fab up` that fixes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gourmetops.check.limits import ANSIBLE_DISTRIBUTION, Limits
from gourmetops.check.parse import PreFacts
from gourmetops.check.rows import Row

# Controller vs node clock, beyond the ssh round trip: etcd's peers warn of clock drift
# above 1 s, and TLS certificates made on one node must already be valid on the others.
CLOCK_BOUND_S = 1.0
# kubelet's default hard eviction thresholds (kubespray keeps them: eviction_hard is {}):
# a node below them starts life under disk pressure and evicts pods.
NODEFS_MIN_PCT, IMAGEFS_MIN_PCT = 10.0, 15.0
ETCD_MIN_KB = 2 * 1024 * 1024  # etcd's default backend quota (2 GiB) must fit


@dataclass(frozen=True)
class Model:
    """What one node is judged against."""

    node: str
    roles: tuple[str, ...]
    addresses: dict[str, str]  # every name the node must resolve -> its private address
    limits: Limits
    packages: tuple[str, ...]  # prepare's docker_packages (group_data)
    apt_source: str
    head: bool  # prepare removes the old Docker on the jump host only
    full_install: bool  # the cluster stage runs kubespray's preinstall (not the lab's facts)
    window: tuple[float, float] = (0.0, 0.0)  # controller time around the ssh call


def _row(m: Model, check: str, found: str, ok: bool, fix: str = "", by: str | None = None):
    return Row(m.node, check, found, ok, "" if ok else fix, None if ok else by)


def os_row(f: PreFacts, m: Model) -> Row:
    distro = ANSIBLE_DISTRIBUTION.get(f.os.get("ID", ""), f.os.get("NAME", "?"))
    version, codename = f.os.get("VERSION_ID", ""), f.os.get("VERSION_CODENAME", "")
    found = f"{f.os.get('PRETTY_NAME', distro)}, kernel {f.kernel or '?'}"
    listed = m.limits.versions.get(distro)
    if distro not in m.limits.distributions:
        return _row(
            m,
            "os",
            found,
            False,
            f"kubespray {m.limits.ref} stops on {distro}: use "
            f"one of {', '.join(m.limits.distributions)}",
        )
    if listed and version not in listed and codename not in listed:
        return _row(
            m,
            "os",
            found,
            False,
            f"kubespray {m.limits.ref} supports {distro} "
            f"{', '.join(listed)} only (its README): reinstall the node with one",
        )
    return _row(m, "os", found + f"; supported by kubespray {m.limits.ref}", True)


def cpu_row(f: PreFacts, m: Model) -> Row:
    found = f"{f.cpus} CPUs; kubespray {m.limits.ref} asserts no CPU minimum"
    return _row(m, "cpu", found, f.cpus >= 1, "nproc printed nothing: is /proc mounted?")


def memory_row(f: PreFacts, m: Model) -> Row:
    need = max(
        [m.limits.master_memory_mb] * ("kube_control_plane" in m.roles)
        + [m.limits.node_memory_mb] * ("kube_node" in m.roles)
        + [0]
    )
    found = f"{f.mem_mb} MB, kubespray {m.limits.ref} needs {need} MB for {'/'.join(m.roles)}"
    return _row(
        m,
        "memory",
        found,
        f.mem_mb >= need,
        f"give {m.node} at least {need} MB (minimal_master_memory_mb/minimal_node_memory_mb)",
    )


def disk_row(f: PreFacts, m: Model) -> Row:
    wants = {"/": ("nodefs", NODEFS_MIN_PCT, 0), m.limits.image_dir: ("images", IMAGEFS_MIN_PCT, 0)}
    if "etcd" in m.roles:
        wants[m.limits.etcd_dir] = ("etcd", 0.0, ETCD_MIN_KB)
    parts, bad = [], []
    for disk in f.disks:
        if disk.path not in wants:
            continue
        what, pct, kb = wants[disk.path]
        parts.append(f"{disk.path} {disk.avail_kb // 1048576} GiB free ({disk.free_pct:.0f}%)")
        if disk.free_pct < pct or disk.avail_kb < kb:
            bad.append(f"{disk.path} ({what}) needs {f'{pct:.0f}%' if pct else '2 GiB'} free")
    missing = [p for p in wants if p not in {d.path for d in f.disks}]
    bad += [f"{p}: df printed nothing" for p in missing]
    return _row(
        m,
        "disk",
        "; ".join(parts) or "no df output",
        not bad,
        f"free space on {m.node}: " + "; ".join(bad),
    )


def swap_row(f: PreFacts, m: Model) -> Row:
    if not f.swaps:
        return _row(m, "swap", "no swap", True)
    found = "swap on " + ", ".join(f"{dev} ({kb // 1024} MB)" for dev, kb in f.swaps)
    converges = m.full_install and m.limits.swapoff
    return _row(
        m,
        "swap",
        found,
        False,
        f"`sudo swapoff -a` on {m.node} and drop swap from "
        "/etc/fstab (kubespray's preinstall does both)",
        "cluster" if converges else None,
    )


def ip_forward_row(f: PreFacts, m: Model) -> Row:
    found = f"net.ipv4.ip_forward = {f.ip_forward or '?'}"
    return _row(
        m,
        "ip_forward",
        found,
        f.ip_forward == "1",
        f"`sudo sysctl -w net.ipv4.ip_forward=1` on {m.node} (kubespray sets it)",
        "cluster" if m.full_install else None,
    )


def modules_row(f: PreFacts, m: Model) -> Row:
    mods, have = m.limits.modules, f.modules_loaded | f.modules_found
    lacking = [x for x in mods.all_of if x not in have]
    if mods.any_of and not have & set(mods.any_of):
        lacking.append(" or ".join(mods.any_of))
    found = f"loaded or loadable: {', '.join(x for x in mods.names if x in have) or 'none'}"
    return _row(
        m,
        "modules",
        found,
        not lacking,
        f"kubespray {m.limits.ref} modprobes "
        f"{', '.join(lacking)}: install the kernel's modules package "
        "(linux-modules-extra-$(uname -r) on Ubuntu)",
    )


def clock_row(f: PreFacts, m: Model) -> Row:
    if f.clock is None:
        return _row(m, "clock", "date printed nothing", False, "check `date` on the node")
    start, end = m.window
    off = start - f.clock if f.clock < start else max(0.0, f.clock - end)
    found = f"off by {off:.2f} s beyond the ssh round trip ({end - start:.2f} s)"
    return _row(
        m,
        "clock",
        found,
        off <= CLOCK_BOUND_S,
        f"sync {m.node}'s clock (timedatectl set-ntp true; bound {CLOCK_BOUND_S:g} s)",
    )


def hostname_row(f: PreFacts, m: Model) -> Row:
    ok = f.hostname == m.node
    by = "cluster" if m.limits.sets_hostname else None
    return _row(
        m,
        "hostname",
        f"hostname {f.hostname or '?'}",
        ok,
        f"`sudo hostnamectl set-hostname {m.node}` (cluster.yaml names it {m.node})",
        by,
    )


def resolve_row(f: PreFacts, m: Model) -> Row:
    wrong, missing = [], []
    for name, address in m.addresses.items():
        got = f.resolves.get(name, "")
        if not got:
            missing.append(name)
        elif got != address and not (name == m.node and got.startswith("127.")):
            wrong.append(f"{name} -> {got} (cluster.yaml: {address})")
    later = m.full_install and m.limits.writes_etc_hosts
    found = "; ".join(
        [f"wrong: {', '.join(wrong)}"] * bool(wrong)
        + [f"unresolved: {', '.join(missing)}"
           + (" (kubespray's preinstall adds them to /etc/hosts)" if later else "")] * bool(missing)
    ) or f"all of {', '.join(m.addresses)} resolve to their cluster.yaml addresses"  # fmt: skip
    hosts = " ".join(f"{m.addresses[n]} {n}" for n in missing) or "the right address"
    if wrong:
        return _row(m, "resolve", found, False, f"fix /etc/hosts or DNS on {m.node}: {hosts}")
    return _row(
        m,
        "resolve",
        found,
        not missing,
        f"add to /etc/hosts on {m.node}: {hosts}",
        "cluster" if later else None,
    )


def leftovers_row(f: PreFacts, m: Model) -> Row:
    present = [
        p
        for p, s in f.packages.items()
        if s in ("installed", "half-configured", "unpacked", "half-installed")
    ]
    present += [m.apt_source] * f.apt_source
    if not present:
        return _row(m, "leftovers", "no old Docker packages, no docker.list", True)
    fix = (
        "`fab prepare` removes them"
        if m.head
        else (f"`sudo apt-get purge {' '.join(present)}` on {m.node} (prepare cleans node1 only)")
    )
    return _row(
        m, "leftovers", "present: " + ", ".join(present), False, fix, "prepare" if m.head else None
    )


def firewalld_row(f: PreFacts, m: Model) -> Row:
    active, enabled = f.firewalld.get("active", ""), f.firewalld.get("enabled", "")
    if not enabled or enabled == "not-found":
        return _row(m, "firewalld", "not installed", True)
    found = f"firewalld {active or '?'}, {enabled}"
    ok = active != "active" and enabled in ("disabled", "masked")
    return _row(m, "firewalld", found, ok, "`fab prepare` stops and disables it", "prepare")


RULES: tuple[Callable[[PreFacts, Model], Row], ...] = (
    os_row,
    cpu_row,
    memory_row,
    disk_row,
    swap_row,
    ip_forward_row,
    modules_row,
    clock_row,
    hostname_row,
    resolve_row,
    leftovers_row,
    firewalld_row,
)


def judge(facts: PreFacts, model: Model) -> list[Row]:
    return [rule(facts, model) for rule in RULES]


def unique_hostnames(facts: dict[str, PreFacts]) -> list[Row]:
    """Two nodes answering to one hostname confuse kubelet's node registration."""
    rows = []
    for node, f in facts.items():
        twins = [n for n, g in facts.items() if n != node and g.hostname == f.hostname]
        if twins:
            rows.append(
                Row(
                    node,
                    "hostname",
                    f"hostname {f.hostname} also on {', '.join(twins)}",
                    False,
                    "give every node its own hostname (its cluster.yaml name)",
                    "cluster",
                )
            )
    return rows
