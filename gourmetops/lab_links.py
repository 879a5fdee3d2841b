"""Whether a packet to a lab address would stay on this machine. The lab's addresses exist
only while the lab runs: behind its unreachable route, node1's over the lab's own host link.
With the lab down both are gone, and the same address would leave through the default
route, towards whatever the network beyond holds there; nothing may connect then.

    >>> leaves({"dst": "10.254.0.2", "dev": "gol-public", "prefsrc": "10.254.0.1"})
    >>> leaves({"dst": "10.254.0.2", "gateway": "192.0.2.1", "dev": "eth0"})
    'via 192.0.2.1 dev eth0'
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
from typing import Any

# Every lab instance's namespace and link names: "gol-" (the default) or "gol_<name>-".
LAB_FAMILY = re.compile(r"gol(_[a-z0-9]{1,4})?-")


def leaves(route: dict[str, Any] | None) -> str | None:
    """How a packet on `route` (one answer of `ip -j route get`; None: no route, the lab's
    unreachable one) would leave this machine ("via GATEWAY dev DEV"), or None if it stays:
    no route, this machine's own address, or a lab's link with no gateway."""
    if route is None or route.get("type") == "local":
        return None
    dev, gateway = str(route.get("dev", "")), route.get("gateway")
    if LAB_FAMILY.match(dev) and not gateway:
        return None
    return " ".join(x for x in (gateway and f"via {gateway}", dev and f"dev {dev}") if x)


def route_to(address: ipaddress.IPv4Address) -> dict[str, Any] | None:
    """The kernel's route to `address` (`ip -j route get`: a lookup, no packet is sent), or
    None when it has none (an unreachable or prohibit route: it would send nothing)."""
    proc = subprocess.run(
        ["ip", "-j", "route", "get", str(address)],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:  # "No route to host" (exit 2)
        return None
    answers = json.loads(proc.stdout or "[]")
    return dict(answers[0]) if answers else None


def route_out(address: ipaddress.IPv4Address) -> str | None:
    """How a packet to `address` would leave this machine now, or None if it stays (no
    `ip` to ask: the lab cannot be running, and nothing is sure to stay)."""
    try:
        return leaves(route_to(address))
    except FileNotFoundError:
        return "unknown: no `ip` command to ask the kernel"
