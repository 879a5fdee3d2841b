"""node1's sharednet1 address (the Service's externalIP) found on node1 when not given: the
source of its default route, refused when it is the floating IP or no node's address, kept
for the next runs, and overridden by what the user sets. The floating IP is a loopback
placeholder (127.0.0.10): nothing here connects anywhere."""

from __future__ import annotations

import ipaddress
import json

import pytest
from invoke import Context

from gourmetops import service_address, targets
from gourmetops.context import connect
from gourmetops.errors import GourmetopsError
from gourmetops.service_address import SEPARATOR, DiscoveryError, parse
from gourmetops.targets import chameleon_target

FLOATING = "127.0.0.10"
ROUTE = [
    {
        "dst": "default",
        "gateway": "10.56.0.1",
        "dev": "eno1",
        "protocol": "dhcp",
        "prefsrc": "10.56.1.23",
        "metric": 100,
        "flags": [],
    }
]
ADDRS = [
    {"ifname": "eno1", "addr_info": [{"family": "inet", "local": "10.56.1.23", "prefixlen": 22}]},
    {"ifname": "eno2", "addr_info": [{"family": "inet", "local": "192.168.1.11"}]},
]


def output(routes: object, addrs: object = ADDRS) -> str:
    return f"{json.dumps(routes)}\n{SEPARATOR}\n{json.dumps(addrs)}\n"


@pytest.fixture
def target(tmp_path, monkeypatch):
    """The Chameleon target with no node1 address given, its state in tmp_path."""
    monkeypatch.setattr(targets, "STATE_DIR", tmp_path)
    env = {"GOURMETOPS_FLOATING_IP": FLOATING, "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent"}
    return chameleon_target(env=env)


def test_the_default_routes_source_or_its_devices_address(target):
    assert parse(output(ROUTE), target) == (ipaddress.IPv4Address("10.56.1.23"), "eno1")
    no_prefsrc = [{k: v for k, v in ROUTE[0].items() if k != "prefsrc"}]
    assert parse(output(no_prefsrc), target)[0] == ipaddress.IPv4Address("10.56.1.23")


@pytest.mark.parametrize(
    ("routes", "addrs", "said"),
    [
        ([], ADDRS, "node1 has no default route to take its address from: set it yourself: set "),
        (
            [{"dst": "default", "dev": "eno3"}],
            ADDRS,
            "node1's eno3 (its default route) has no IPv4",
        ),
        ([dict(ROUTE[0], prefsrc=FLOATING)], ADDRS, f"{FLOATING} is the floating IP, which no "),
        ([dict(ROUTE[0], prefsrc="0.0.0.0")], ADDRS, "0.0.0.0 is the unspecified address"),
        ({"not": "a list"}, ADDRS, "node1's default route is not what `ip -j` prints"),
    ],
)
def test_what_cannot_be_the_address_is_refused_with_the_setting_to_use(target, routes, addrs, said):
    with pytest.raises(DiscoveryError) as err:
        parse(output(routes, addrs), target)
    assert said in str(err.value)
    assert "GOURMETOPS_NODE1_PUBLIC_ADDRESS or 'node1_public_address'" in str(err.value)


def test_found_once_kept_and_read_by_the_next_run(target, tmp_path, capsys):
    """The real command, run by invoke on this machine (its own default route): what node1
    runs over SSH is the same string."""
    ours = json.loads(
        Context().run("ip -4 -j route show default", hide=True, in_stream=False).stdout
    )
    if not ours:
        pytest.fail("this machine has no default route to read")
    found = service_address.discover(Context(), target)
    said = capsys.readouterr().out
    assert f"node1's address on sharednet1: {found} (the source of its default route, on " in said
    assert f"{ours[0]['dev']}; kept in {tmp_path}/chameleon/node1_public_address" in said
    env = {"GOURMETOPS_FLOATING_IP": FLOATING, "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent"}
    assert chameleon_target(env=env).service_address == found
    given = chameleon_target(env={**env, "GOURMETOPS_NODE1_PUBLIC_ADDRESS": "127.0.0.8"})
    assert str(given.service_address) == "127.0.0.8"  # what the user sets wins


def test_a_dry_run_keeps_nothing_and_a_kept_floating_ip_is_refused(target, tmp_path):
    service_address.discover(Context(), target, keep=False)
    assert not (tmp_path / "chameleon").exists()
    (tmp_path / "chameleon").mkdir()
    (tmp_path / "chameleon" / "node1_public_address").write_text(f"{FLOATING}\n")
    env = {"GOURMETOPS_FLOATING_IP": FLOATING, "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent"}
    with pytest.raises(DiscoveryError, match="is the floating IP, which no interface of node1"):
        chameleon_target(env=env)


def test_found_on_a_lab_node_with_a_sharednet1_of_its_own(lab):
    """On node1 of the lab, over SSH: first with no default route (the lab's nodes have
    none) the user is told what to set; then with a veth pair made inside node1's own
    namespace standing in for sharednet1 (an address of the lab's range, a default route
    through it: nothing can leave node1's namespace), the address found is that one.
    Not kept (keep=False): the lab's target has its address already."""
    conn = connect(lab.target, "node1")
    with pytest.raises(DiscoveryError, match="node1 has no default route to take its address"):
        service_address.discover(conn, lab.target, keep=False)
    make = (
        "sudo ip link add gosn0 type veth peer name gosn1 && sudo ip link set gosn1 up && "
        "sudo ip addr add 10.254.9.7/32 dev gosn0 && sudo ip link set gosn0 up && "
        "sudo ip route add default dev gosn0"
    )
    lab.ssh("node1", make)
    try:
        found = service_address.discover(conn, lab.target, keep=False)
    finally:
        lab.ssh("node1", "sudo ip link del gosn0")
    assert str(found) == "10.254.9.7"
    assert lab.out("node1", "ip -4 route show default") == ""


def test_a_kept_file_beyond_an_address_is_refused_unread(target, tmp_path):
    (tmp_path / "chameleon").mkdir()
    (tmp_path / "chameleon" / "node1_public_address").write_text("10.56.1.23\n" + "x" * 100)
    env = {"GOURMETOPS_FLOATING_IP": FLOATING, "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent"}
    with pytest.raises(GourmetopsError, match="node1_public_address: is larger than 64 bytes"):
        chameleon_target(env=env)
