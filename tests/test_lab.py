"""The lab itself: its safety rules and its lifecycle (up, no-op up, stale cleanup, down)."""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT
from gourmetops import lab as labmod
from gourmetops.lab import machines, network, snapshots
from gourmetops.lab.system import LabError
from gourmetops.lab_links import route_out
from gourmetops.safe_write import UnsafePath
from tests.labtools import DOCKER_READY, Lab


def routes(kind: str) -> list[dict]:
    out = subprocess.run(
        ["ip", "-j", "route", "show", "type", kind], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out or "[]")


def test_whole_lab_range_is_unreachable_from_the_host_except_node1(lab: Lab):
    lab_net = lab.target.cluster.lab
    assert {"dst": str(lab_net.range)}.items() <= next(
        r for r in routes("unreachable") if r["dst"] == str(lab_net.range)
    ).items()
    # An address of the range nothing owns, and the workers: refused by the route at once.
    for address in ("10.254.200.1", *(str(n.address) for n in lab.target.cluster.workers)):
        route = subprocess.run(["ip", "route", "get", address], capture_output=True, text=True)
        assert route.returncode != 0 or "unreachable" in route.stdout, address
        with pytest.raises(OSError):
            socket.create_connection((address, 22), timeout=3).close()
    with socket.create_connection((str(lab.target.public_address), 22), timeout=3) as conn:
        assert conn.recv(64).startswith(b"SSH-2.0-")


def test_private_network_has_no_end_on_the_host(lab: Lab):
    out = subprocess.run(["ip", "-j", "-4", "addr"], capture_output=True, text=True, check=True)
    private = lab.target.cluster.lab.private_network
    host_addresses = [
        (iface["ifname"], ipaddress.IPv4Address(addr["local"]))
        for iface in json.loads(out.stdout)
        for addr in iface.get("addr_info", [])
    ]
    assert host_addresses, "the host has IPv4 addresses (at least loopback)"
    assert [(name, a) for name, a in host_addresses if a in private] == []


def test_nodes_run_real_systemd_sshd_and_firewalld(lab: Lab):
    for node in lab.nodes:
        assert lab.out(node, "ps -o comm= -p 1") == "systemd"
        assert lab.out(node, "hostname") == node
        assert lab.out(node, "systemctl is-active ssh") == "active"


def test_up_on_a_running_lab_changes_nothing(lab: Lab):
    before = labmod.status(lab.target)
    assert before.state == "running"
    after = labmod.up(lab.target)
    assert after.nodes == before.nodes


def test_stale_lab_from_a_killed_session_is_cleaned_by_up(lab: Lab):
    """A killed session leaves namespaces, mounts and nspawn processes but, here, no state
    file; up must find them by their own names and replace them with a working lab."""
    old = labmod.status(lab.target)
    labmod.STATE_FILE.unlink()
    assert labmod.status(lab.target).state == "stale"
    subprocess.run(["ip", "netns", "add", "unrelated-test-ns"], check=True)
    try:
        new = labmod.up(lab.target)
        assert new.state == "running"
        assert set(new.nodes.values()).isdisjoint(old.nodes.values())
        assert not any(machines.is_our_nspawn(pid) for pid in old.nodes.values() if pid)
        assert sorted(network.our_namespaces()) == sorted(
            [network.SWITCH_NS] + [network.node_ns(n) for n in lab.nodes]
        )
        assert len(machines.our_mounts()) == len(lab.nodes)
        assert lab.out("node3", "hostname") == "node3"
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert "unrelated-test-ns" in names
    finally:
        subprocess.run(["ip", "netns", "del", "unrelated-test-ns"], check=False)


def test_down_removes_only_what_the_lab_made_then_up_again(lab: Lab):
    subprocess.run(["ip", "netns", "add", "unrelated-test-ns"], check=True)
    try:
        pids = [p for p in labmod.status(lab.target).nodes.values() if p]
        labmod.down(lab.target)
        assert labmod.status(lab.target).state == "absent"
        assert network.our_namespaces() == [] and machines.our_mounts() == []
        assert not any(machines.is_our_nspawn(pid) for pid in pids)
        blackhole = [
            r for r in routes("unreachable") if r["dst"] == str(lab.target.cluster.lab.range)
        ]
        # kept while another lab instance (the CI's other lab-tier shard) still runs
        assert bool(blackhole) == bool(network.other_labs_namespaces()), blackhole
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert "unrelated-test-ns" in names
        _nothing_connects_while_it_is_down(lab)
    finally:
        subprocess.run(["ip", "netns", "del", "unrelated-test-ns"], check=False)
        labmod.up(lab.target)
    assert labmod.status(lab.target).state == "running"


REFUSED = "the lab is not running: its address for node1"


def _nothing_connects_while_it_is_down(lab: Lab) -> None:
    """With the lab down its addresses route out through the default route (unless another
    lab instance still runs: its unreachable route then keeps them in, "No route to host"):
    fab, and pyinfra's own CLI on the lab's inventory, stop before any client connects."""
    address = lab.target.public_address
    before = route_out(address)
    task = lab.fab("catalog")
    deploy = subprocess.run(
        [str(Path(sys.executable).parent / "pyinfra"), "inventories/lab.py",
         "deploys/prepare.py", "-y"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
    )  # fmt: skip
    after = route_out(address)
    assert task.returncode == 1 and deploy.returncode != 0, (task.stdout, deploy.stdout)
    said = task.stdout.strip().splitlines()[-1]
    if before and after:  # the default route (or a link of the host's) would take it
        assert said == (
            f"error: {REFUSED} ({address}) would leave this machine ({before}), so nothing "
            "connects; start it with `fab lab.up` (`fab up` starts it too)"
        )
        assert f"{REFUSED} ({address})" in deploy.stdout + deploy.stderr
        assert "Connecting to hosts" not in deploy.stdout + deploy.stderr
    elif before is None and after is None:  # another lab's unreachable route keeps it in
        assert "no route" in said.lower(), said
    else:  # the other lab ended meanwhile: either answer is right
        assert REFUSED in said or "no route" in said.lower(), said


def test_a_restored_snapshot_is_a_read_only_layer_under_a_fresh_upper_dir(docker_lab: Lab):
    """docker_lab restored the Docker-ready snapshot: nothing was copied (the node's own
    upper dir is near empty) yet the engine it saved runs; nodes on a snapshot cannot be
    saved again (their upper dirs hold only what changed since)."""

    def mib(path) -> int:
        return int(subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True,
                                  check=True).stdout.split()[0])  # fmt: skip

    saved, own = (
        mib(snapshots.SNAPSHOT_DIR / DOCKER_READY / "node2"),
        mib(machines.node_dir("node2") / "upper"),
    )
    assert own * 4 < saved, (own, saved)
    assert docker_lab.out("node2", "systemctl is-active docker") == "active"
    with pytest.raises(LabError, match="the nodes run on snapshot 'docker-ready'"):
        labmod.save("again", docker_lab.target)


def test_a_link_a_node_planted_is_not_followed_onto_the_host(lab: Lab):
    """A node's root makes its /etc/hostname a link to a host path; the lab writes each
    node's hostname from the host before boot (here when booting from the snapshot that
    kept the link): the write is refused, and the host file stays as it was."""
    victim = Path("/tmp/gourmetops-lab-victim")
    victim.write_text("host file\n")
    labmod.reset(lab.target)
    lab.console("node2", f"ln -sfn {victim} /etc/hostname")
    try:
        with pytest.raises(UnsafePath, match=r"node2's /etc/hostname .*: is a symbolic link"):
            labmod.save("planted", lab.target)
        assert victim.read_text() == "host file\n"
    finally:
        labmod.reset(lab.target)
        shutil.rmtree(snapshots.SNAPSHOT_DIR / "planted", ignore_errors=True)
        victim.unlink()
