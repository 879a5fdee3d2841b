"""Whether a lab address would stay on this machine, judged from the kernel's answers to
`ip -j route get` (recorded on this machine with the lab up and down; the second lab
instance's link as tests/lab_shards.py names it). The refusal itself, with the lab really
down: tests/test_lab.py."""

from __future__ import annotations

import ipaddress

import pytest

from gourmetops.lab_links import leaves, route_out
from gourmetops.targets import TargetError, chameleon_target, lab_target

UP = {"dst": "10.254.0.2", "dev": "gol-public", "prefsrc": "10.254.0.1", "flags": []}
SECOND = {"dst": "10.254.0.6", "dev": "gol_2-public", "prefsrc": "10.254.0.5", "flags": []}
# Recorded with the lab down, the gateway's and the host's own addresses replaced by ones in
# the lab's range (a test names no routable address).
DOWN = {"dst": "10.254.0.2", "gateway": "10.254.255.1", "dev": "eth0", "prefsrc": "10.254.255.2"}
LOCAL = {"type": "local", "dst": "127.0.0.5", "dev": "lo", "prefsrc": "127.0.0.1"}
# A network of the host's own that holds the lab's range once the lab is gone: no gateway,
# yet the packet leaves over that link.
LAN = {"dst": "10.254.0.2", "dev": "eth1", "prefsrc": "10.254.0.9", "flags": []}


@pytest.mark.parametrize(
    ("route", "out"),
    [
        (UP, None),
        (SECOND, None),
        (None, None),  # the lab's unreachable route: "No route to host", nothing sent
        (LOCAL, None),
        (DOWN, "via 10.254.255.1 dev eth0"),
        (LAN, "dev eth1"),
        ({**UP, "gateway": "10.254.0.1"}, "via 10.254.0.1 dev gol-public"),
    ],
    ids=["lab-link", "second-lab", "unreachable", "local", "default-route", "lan", "gateway"],
)
def test_a_route_stays_only_on_a_labs_link_or_nowhere(route, out):
    assert leaves(route) == out


def test_the_kernel_is_asked_for_real():
    """A real lookup (no packet is sent): a loopback address stays on this machine."""
    assert route_out(ipaddress.IPv4Address("127.0.0.5")) is None


def test_only_the_labs_target_is_guarded():
    """Chameleon's addresses are meant to be reached over the network; the lab's alone are
    checked before a client gets them."""
    assert (
        lab_target().lab_only
        and not chameleon_target(env={"GOURMETOPS_FLOATING_IP": "127.0.0.10"}).lab_only
    )


def test_the_refusal_names_the_address_the_route_and_the_fix(monkeypatch):
    """The message's words, with the recorded default-route answer in place of the
    kernel's (which here depends on whether a lab runs on this machine); the refusal with
    the lab really down, from the kernel's own answer, is in tests/test_lab.py."""
    import gourmetops.targets as targets

    target = lab_target()
    monkeypatch.setattr(targets, "route_out", lambda address: leaves(DOWN))
    with pytest.raises(TargetError) as refused:
        target.ssh_argv("node1", "true")
    assert str(refused.value) == (
        "the lab is not running: its address for node1 (10.254.0.2) would leave this "
        "machine (via 10.254.255.1 dev eth0), so nothing connects; start it with `fab lab.up` "
        "(`fab up` starts it too)"
    )
