"""The lab's networks: one namespace per node, a switch namespace holding the private
bridge (the host has no address on it), and a host <-> node1 link for the "floating IP".

Every name starts with PREFIX (this lab instance's, gourmetops.lab.instance) so a stale lab
can be found and removed without touching anything else on the host, another lab included.
"""

from __future__ import annotations

import ipaddress
import json

from gourmetops.cluster import Cluster, LabNetwork
from gourmetops.lab.instance import THIS
from gourmetops.lab.system import LabError, run, say
from gourmetops.lab_links import LAB_FAMILY

PREFIX = THIS.prefix
SWITCH_NS = f"{PREFIX}switch"
HOST_LINK = f"{PREFIX}public"


def node_ns(name: str) -> str:
    return f"{PREFIX}{name}"


def _ip(*args: str, ns: str | None = None) -> None:
    run(["ip", *(["-n", ns] if ns else []), *args])


def _namespaces() -> list[str]:
    out = run(["ip", "-j", "netns", "list"], quiet=True).stdout.strip()
    return [n["name"] for n in json.loads(out or "[]")]


def our_namespaces() -> list[str]:
    return [name for name in _namespaces() if name.startswith(PREFIX)]


def other_labs_namespaces() -> list[str]:
    """Namespaces of another lab instance running beside this one."""
    return [n for n in _namespaces() if LAB_FAMILY.match(n) and not n.startswith(PREFIX)]


def _route_is_ours(route: dict, lab: LabNetwork) -> bool:
    if route.get("dev", "").startswith(PREFIX):
        return True
    return route.get("type") == "unreachable" and route.get("dst") == str(lab.range)


def check_range_is_free(lab: LabNetwork) -> None:
    """Refuse to start when anything on the host already uses the lab's range: another lab
    instance's host link only where it overlaps this lab's public network."""
    routes = json.loads(run(["ip", "-j", "-4", "route", "show", "table", "all"]).stdout or "[]")
    for route in routes:
        dst = route.get("dst", "")
        if dst in ("", "default") or _route_is_ours(route, lab):
            continue
        try:
            net = ipaddress.IPv4Network(dst if "/" in dst else f"{dst}/32", strict=False)
        except ValueError:
            continue
        if LAB_FAMILY.match(route.get("dev", "")):  # another lab instance's host link
            if net.overlaps(lab.public_network):
                raise LabError(
                    f"another lab (link {route['dev']}) uses {dst}, which overlaps this "
                    f"lab's public network {lab.public_network}; give this one another "
                    "lab.public_network in its cluster.yaml"
                )
            continue
        if net.overlaps(lab.range):
            raise LabError(
                f"host route {dst} (dev {route.get('dev', '?')}) overlaps the lab range "
                f"{lab.range}; change lab.range in cluster.yaml"
            )


def add_blackhole(lab: LabNetwork) -> None:
    """Before any lab packet exists: nothing addressed into the lab range may leave the host
    through the default route; only the more specific link to node1 is reachable."""
    run(["ip", "route", "replace", "unreachable", str(lab.range)])


def remove_blackhole(lab: LabNetwork) -> None:
    """Only with no other lab instance left: the route keeps its addresses in, too."""
    if other_labs_namespaces():
        say(f"another lab still runs: the unreachable route for {lab.range} stays")
        return
    run(["ip", "route", "del", "unreachable", str(lab.range)], check=False, quiet=True)


def create(cluster: Cluster, lab: LabNetwork) -> None:
    prefix_len = lab.private_network.prefixlen
    _ip("netns", "add", SWITCH_NS)
    _ip("link", "set", "lo", "up", ns=SWITCH_NS)
    _ip("link", "add", "br0", "type", "bridge", ns=SWITCH_NS)
    _ip("link", "set", "br0", "up", ns=SWITCH_NS)
    for node in cluster.nodes:
        ns = node_ns(node.name)
        _ip("netns", "add", ns)
        _ip("link", "set", "lo", "up", ns=ns)
        # The veth is created inside the node's namespace, its peer inside the switch:
        # the private network never has an end on the host.
        _ip(
            "link",
            "add",
            "eth0",
            "type",
            "veth",
            "peer",
            "name",
            node.name,
            "netns",
            SWITCH_NS,
            ns=ns,
        )
        _ip("addr", "add", f"{node.address}/{prefix_len}", "dev", "eth0", ns=ns)
        # dockerd needs forwarding on and cannot set it itself (/proc/sys is read-only in
        # the node); the node has no default route, so nothing forwarded leaves the lab.
        run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        _ip("link", "set", "eth0", "up", ns=ns)
        _ip("link", "set", node.name, "master", "br0", ns=SWITCH_NS)
        _ip("link", "set", node.name, "up", ns=SWITCH_NS)
    jump_ns = node_ns(cluster.jump.name)
    public_len = lab.public_network.prefixlen
    _ip("link", "add", HOST_LINK, "type", "veth", "peer", "name", "public0", "netns", jump_ns)
    _ip("addr", "add", f"{lab.host_address}/{public_len}", "dev", HOST_LINK)
    _ip("link", "set", HOST_LINK, "up")
    _ip("addr", "add", f"{lab.public_address}/{public_len}", "dev", "public0", ns=jump_ns)
    _ip("link", "set", "public0", "up", ns=jump_ns)


def destroy() -> None:
    """Remove every namespace and host link of ours; their veths go with them."""
    for ns in our_namespaces():
        say(f"deleting network namespace {ns}")
        run(["ip", "netns", "del", ns], check=False)
    if run(["ip", "link", "show", HOST_LINK], check=False, quiet=True).returncode == 0:
        run(["ip", "link", "del", HOST_LINK], check=False)
