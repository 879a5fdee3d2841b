"""A second lab beside the first (gourmetops.lab.instance): its host-side names, and the
range check that lets another lab's host link be unless it overlaps this lab's public
network. No lab: `ip -j route` answers recorded from two labs running side by side (the
lab tier's two shards, tests/lab_shards.py, run both for real)."""

from __future__ import annotations

import ipaddress
import subprocess

import pytest

from gourmetops.cluster import LabNetwork
from gourmetops.errors import InputError
from gourmetops.lab import network
from gourmetops.lab.instance import instance_names
from gourmetops.lab.system import LabError
from gourmetops.lab_links import LAB_FAMILY
from tests.lab_shards import next_public_network

LAB = LabNetwork(
    range=ipaddress.IPv4Network("10.254.0.0/16"),
    private_network=ipaddress.IPv4Network("10.254.1.0/24"),
    public_network=ipaddress.IPv4Network("10.254.0.0/30"),
)
FIRST_LABS_ROUTES = (
    '[{"type":"unreachable","dst":"10.254.0.0/16","flags":[]},'
    '{"dst":"10.254.0.0/30","dev":"gol-public","protocol":"kernel","scope":"link",'
    '"prefsrc":"10.254.0.1","flags":[]},'
    '{"type":"local","dst":"10.254.0.1","table":"local","dev":"gol-public","protocol":'
    '"kernel","scope":"host","prefsrc":"10.254.0.1","flags":[]}]'
)


def test_each_instance_has_host_side_names_of_its_own():
    first, second = instance_names(""), instance_names("2")
    assert first.prefix == "gol-" and second.prefix == "gol_2-"
    assert len(f"{instance_names('abcd').prefix}public") <= 15  # Linux's limit for a link
    assert first.cgroup != second.cgroup and first.data_dir != second.data_dir
    assert first.run_dir != second.run_dir
    for name in ("gol-node1", "gol-switch", "gol_2-node3", "gol_abcd-public"):
        assert LAB_FAMILY.match(name), name
    for name in ("golden-net", "unrelated-test-ns", "gol_-x", "gol_toolong-x"):
        assert not LAB_FAMILY.match(name), name


@pytest.mark.parametrize("name", ["B", "toolong", "a-b", "../x"])
def test_an_unusable_instance_name_is_refused_with_what_to_use(name):
    with pytest.raises(InputError, match="1-4 lower-case letters or digits"):
        instance_names(name)


def _routes(monkeypatch: pytest.MonkeyPatch, routes_json: str) -> None:
    def ip(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        assert argv[:2] == ["ip", "-j"], argv
        return subprocess.CompletedProcess(argv, 0, routes_json, "")

    monkeypatch.setattr(network, "run", ip)


def test_a_second_lab_with_the_next_public_network_may_start(monkeypatch):
    """As the second shard's lab sees the first's routes; its own prefix is gol_2-."""
    monkeypatch.setattr(network, "PREFIX", "gol_2-")
    _routes(monkeypatch, FIRST_LABS_ROUTES)
    second = LabNetwork(LAB.range, LAB.private_network, ipaddress.IPv4Network("10.254.0.4/30"))
    network.check_range_is_free(second)


def test_a_second_lab_on_the_same_public_network_is_refused(monkeypatch):
    monkeypatch.setattr(network, "PREFIX", "gol_2-")
    _routes(monkeypatch, FIRST_LABS_ROUTES)
    with pytest.raises(LabError, match=r"another lab \(link gol-public\) uses 10.254.0.0/30"):
        network.check_range_is_free(LAB)


def test_anything_else_in_the_range_is_still_refused(monkeypatch):
    _routes(monkeypatch, '[{"dst":"10.254.7.0/24","dev":"eth0","flags":[]}]')
    with pytest.raises(LabError, match=r"host route 10.254.7.0/24 \(dev eth0\) overlaps"):
        network.check_range_is_free(LAB)


def test_the_second_checkout_gets_the_next_public_network():
    text = "lab:\n  range: 10.254.0.0/16\n  public_network: 10.254.0.0/30   # host <-> node1\n"
    assert next_public_network(text, "10.254.0.0/30") == text.replace("0.0/30 ", "0.4/30 ")
    with pytest.raises(SystemExit, match="no single line"):
        next_public_network("lab: {}\n", "10.254.0.0/30")
