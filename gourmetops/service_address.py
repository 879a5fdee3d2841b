"""node1's own address on sharednet1 (the Service's externalIP, which Chameleon's floating IP
is NATed to), found on node1 when the user did not give it: the source address of node1's
default route, shown once and kept in .state/<target>/node1_public_address.

    $ ip -4 -j route show default
    [{"dst":"default","gateway":"10.56.0.1","dev":"eno1","protocol":"dhcp",
      "prefsrc":"10.56.1.23","metric":100,"flags":[]}]
    $ ip -4 -j addr show scope global
    [{"ifname":"eno1","addr_info":[{"family":"inet","local":"10.56.1.23","prefixlen":22}]}]
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gourmetops.bounded import MAX_CONFIG_BYTES, json_depth_ok, read_capped
from gourmetops.errors import GourmetopsError
from gourmetops.output import say
from gourmetops.safe_write import write_text
from gourmetops.validation import not_a_node

if TYPE_CHECKING:
    from fabric import Connection

    from gourmetops.targets import Target

KEPT = "node1_public_address"
SEPARATOR = "--gourmetops--"
# Reads the routing table and the addresses; no packet is sent.
COMMAND = f"ip -4 -j route show default && echo {SEPARATOR} && ip -4 -j addr show scope global"


class DiscoveryError(GourmetopsError):
    """node1's sharednet1 address cannot be found; the message says what to set instead."""


def _fix(target: Target) -> str:
    return f"set it yourself: {target.service_address_hint}"


def _json_list(text: str, what: str, target: Target) -> list[Any]:
    data = text.strip().encode() or b"[]"
    try:
        if len(data) <= MAX_CONFIG_BYTES and json_depth_ok(data):
            parsed = json.loads(data)
            if isinstance(parsed, list):
                return parsed
    except ValueError:
        pass
    raise DiscoveryError(f"node1's {what} is not what `ip -j` prints: {_fix(target)}")


def parse(output: str, target: Target) -> tuple[ipaddress.IPv4Address, str]:
    """(address, device) from COMMAND's output: the default route's preferred source, else
    the first global address of its device."""
    routes_text, _, addrs_text = output.partition(SEPARATOR)
    routes = _json_list(routes_text, "default route", target)
    addrs = _json_list(addrs_text, "address list", target)
    default = next((r for r in routes if isinstance(r, dict) and r.get("dev")), None)
    if default is None:
        raise DiscoveryError(f"node1 has no default route to take its address from: {_fix(target)}")
    device = str(default["dev"])
    found = default.get("prefsrc") or next(
        (
            a.get("local")
            for link in addrs
            if isinstance(link, dict) and link.get("ifname") == device
            for a in link.get("addr_info", [])
            if isinstance(a, dict) and a.get("family") == "inet"
        ),
        None,
    )
    if not found:
        raise DiscoveryError(
            f"node1's {device} (its default route) has no IPv4 address: {_fix(target)}"
        )
    return checked(str(found), f"node1's default route source on {device}", target), device


def checked(value: str, source: str, target: Target) -> ipaddress.IPv4Address:
    """The address, refused when no node can have it or when it is the floating IP."""
    try:
        address = ipaddress.IPv4Address(value.strip())
    except ValueError:
        raise DiscoveryError(
            f"{source}: {value.strip()!r} is not an IPv4 address: {_fix(target)}"
        ) from None
    why = not_a_node(address)
    if why:
        raise DiscoveryError(f"{source}: {address} {why}: {_fix(target)}")
    if address == target.public_address:
        raise DiscoveryError(
            f"{source}: {address} is the floating IP, which no interface of node1 has: "
            + _fix(target)
        )
    return address


def kept_path(target: Target) -> Path:
    return target.state_dir / KEPT


def read_kept(target: Target) -> ipaddress.IPv4Address | None:
    """The address an earlier run found, if any (checked again: the file is the user's)."""
    path = kept_path(target)
    if not path.is_file() or path.is_symlink():
        return None
    text = read_capped(path, 64).decode("ascii", errors="replace")  # "255.255.255.255\n" at most
    return checked(text, str(path), target)


def discover(conn: Connection, target: Target, keep: bool = True) -> ipaddress.IPv4Address:
    """Found on node1 over `conn`, said in one line and (unless a dry run) kept for the
    next runs."""
    result = conn.run(COMMAND, hide=True, warn=True, in_stream=False)
    if result.exited != 0:
        raise DiscoveryError(
            f"could not read node1's routes ({result.stderr.strip() or f'exit {result.exited}'}): "
            f"{_fix(target)}"
        )
    address, device = parse(result.stdout, target)
    where = "not kept: a dry run"
    if keep:
        path = write_text(kept_path(target), f"{address}\n", "node1's sharednet1 address")
        where = f"kept in {path}"
    say(
        f"node1's address on sharednet1: {address} (the source of its default route, on "
        f"{device}; {where}; set node1_public_address in chameleon.local.yaml to override)"
    )
    return address
