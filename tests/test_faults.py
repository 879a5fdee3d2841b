"""Faults on the lab: a node's sshd killed mid-run, the jump host down, Ctrl-C halfway.

Each test runs the real `fab` against the real nodes, breaks something at a chosen point
of the run (the run is paused with SIGSTOP at a line of its own output while the fault is
made, so "mid-run" is a fixed point, not a race), and checks what the tool said, that the
healthy nodes still converged, and that the rerun converges without duplicated lines.
Every fixture puts the lab back the way it found it (sshd started, node1 booted).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT
from gourmetops import lab as labmod
from gourmetops.lab import machines
from gourmetops.settings import host_settings
from tests.labtools import Lab, docker_ready, results_total

AUTHORISE = "--> Starting operation: Authorise node1's cluster key for cc"
WAIT_KEY = "--> Starting operation: Wait for the cluster key"
REGISTRY_RUN = "--> Starting operation: registry:2 on 10.254.1.11:5000"
# Kill every sshd of the node (the listener and each connection's), the listener first
# through systemd so that its Restart=on-failure does not bring it straight back. A killed
# connection's sshd stays in the process table until the node's init reaps it: that is
# waited for (30 s is reached only if one survives SIGKILL).
KILL_SSHD = (
    "systemctl stop ssh.service; "
    "for pid in $(pgrep -x sshd); do kill -KILL $pid; done; "
    "for i in $(seq 300); do pgrep -x sshd >/dev/null || exit 0; sleep 0.1; done; "
    "pgrep -ax sshd; exit 1"
)


def fab_interrupted_at(
    lab: Lab, marker: str, fault: Callable[[int], object], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run `fab *args`; when `marker` appears in its output, stop the run (SIGSTOP to its
    process group), make `fault(pgid)` happen, and let the run go on (SIGCONT)."""
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("fab")), *args],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        # pyinfra's own lines on the console (the markers are "--> Starting operation: ...")
        env={**os.environ, "PYTHONUNBUFFERED": "1", "GOURMETOPS_VERBOSE": "1"},
        start_new_session=True,  # its own process group, as a terminal job
    )
    assert proc.stdout is not None
    lines, seen = [], False
    try:
        for line in proc.stdout:
            lines.append(line)
            if not seen and marker in line:
                seen = True
                os.killpg(proc.pid, signal.SIGSTOP)
                try:
                    fault(proc.pid)
                finally:
                    os.killpg(proc.pid, signal.SIGCONT)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = "".join(lines)
    assert seen, f"the run never printed {marker!r}:\n{output[-3000:]}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, output, "")


def ctrl_c(lab: Lab, marker: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Ctrl-C at `marker`: SIGINT to the whole process group, as a terminal sends it (fab
    and the pyinfra it runs both get it). Sent while the group is stopped, it is delivered
    on SIGCONT: at the marker, wherever the run was."""
    return fab_interrupted_at(lab, marker, lambda pgid: os.killpg(pgid, signal.SIGINT), *args)


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def assert_no_duplicate_ssh_lines(lab: Lab) -> None:
    """authorized_keys and known_hosts (what prepare writes) hold each line once."""
    pubkey = lab.out("node1", "cat ~/.ssh/id_rsa.pub")
    for node in lab.nodes:
        keys = lab.out(node, "cat ~/.ssh/authorized_keys").splitlines()
        assert keys.count(pubkey) == 1, (node, keys)
        assert len(keys) == len(set(keys)), (node, keys)
    known = lab.out("node1", "cat ~/.ssh/known_hosts").splitlines()
    assert len(known) == len(set(known)), known
    assert known.count("# BEGIN gourmetops cluster nodes") == 1, known
    for node in lab.target.cluster.nodes:
        assert any(line.startswith(f"{node.name},{node.address} ") for line in known), known


def assert_no_duplicate_registry_lines(lab: Lab) -> None:
    """daemon.json holds the trust once, and node1 runs one registry container."""
    for node in lab.nodes:
        daemon = json.loads(lab.out(node, "cat /etc/docker/daemon.json"))
        lab_keys = host_settings("lab").docker_daemon_settings
        assert daemon == {**lab_keys, "insecure-registries": ["node1:5000"]}, node
    registries = lab.out("node1", "sudo docker ps -a --filter name=^registry$ --format '{{.ID}}'")
    assert len(registries.split()) == 1, registries


def assert_converged(lab: Lab, deploy: str) -> None:
    again = lab.pyinfra(deploy)
    assert again.returncode == 0, again.stdout[-3000:]
    total = results_total(again.stdout)
    assert total["success"] == "-" and total["error"] == "-", again.stdout[-3000:]


@pytest.fixture
def pristine(lab: Lab) -> Lab:
    labmod.reset(lab.target)
    return lab


@pytest.fixture
def sshd_restarted(pristine: Lab) -> Iterator[Lab]:
    yield pristine
    pristine.console("node3", "systemctl start ssh.service")


def test_sshd_killed_mid_run_names_the_node_and_the_rerun_converges(sshd_restarted: Lab):
    lab = sshd_restarted
    proc = fab_interrupted_at(lab, AUTHORISE, lambda _: lab.console("node3", KILL_SSHD), "prepare")
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert last_line(proc.stdout).startswith("prepare failed on target lab: node3: "), proc.stdout[
        -3000:
    ]
    assert "node1:" not in last_line(proc.stdout) and "node2:" not in last_line(proc.stdout)
    # The nodes whose sshd lived converged in the same run.
    pubkey = lab.out("node1", "cat ~/.ssh/id_rsa.pub")
    assert lab.out("node2", "cat ~/.ssh/authorized_keys").splitlines().count(pubkey) == 1
    for node in ("node1", "node2"):
        assert lab.out(node, "systemctl is-active firewalld || true") == "inactive", node

    lab.console("node3", "systemctl start ssh.service")
    rerun = lab.fab("prepare")
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert lab.out("node3", "systemctl is-active firewalld || true") == "inactive"
    assert lab.out("node3", "cat ~/.ssh/authorized_keys").splitlines().count(pubkey) == 1
    assert_converged(lab, "prepare")


def test_node1_failing_before_its_key_is_collected_is_named_by_the_workers_too(pristine: Lab):
    """node1's key is collected late in the run: when node1 fails before that, the workers
    say so instead of a missing key, and the rerun after the fix converges."""
    lab = pristine
    lab.out("node1", "rm -f ~/.ssh/known_hosts && mkdir ~/.ssh/known_hosts")
    proc = lab.fab("prepare")
    assert proc.returncode == 1, proc.stdout[-3000:]
    line = last_line(proc.stdout)
    assert line.startswith("prepare failed on target lab: node1: "), line
    assert "known_hosts" in line, line
    for worker in ("node2", "node3"):
        assert f"{worker}: node1 failed earlier in this run: fix it, then rerun" in line, line
    lab.out("node1", "rmdir ~/.ssh/known_hosts")
    assert lab.fab("prepare").returncode == 0
    assert_no_duplicate_ssh_lines(lab)


@pytest.fixture
def node1_stopped(pristine: Lab) -> Iterator[Lab]:
    pid = labmod.status(pristine.target).nodes["node1"]
    assert pid
    machines.stop(pid)  # the lab's own orderly shutdown of that node, by its nspawn PID
    yield pristine
    labmod.up(pristine.target)  # a lab with a stopped node is stale: rebuilt whole


def test_jump_host_down_names_workers_unreachable_through_it(node1_stopped: Lab):
    proc = node1_stopped.fab("prepare")
    assert proc.returncode == 1, proc.stdout[-3000:]
    line = last_line(proc.stdout)
    assert line.startswith("prepare failed on target lab: node1: could not connect over SSH ("), (
        line
    )
    assert line.endswith(
        "; node2: unreachable through node1 (node1 could not be reached)"
        "; node3: unreachable through node1 (node1 could not be reached)"
    ), line
    assert "Traceback" not in proc.stdout


@pytest.mark.parametrize("marker", [AUTHORISE, WAIT_KEY], ids=["authorise", "key-in-background"])
def test_ctrl_c_in_prepare_then_the_rerun_converges_without_duplicates(pristine: Lab, marker):
    """At WAIT_KEY node1's key generator runs on without the run that started it: the
    rerun finds it running (and waits for it) or finds the key, never half of it."""
    lab = pristine
    first = ctrl_c(lab, marker, "prepare")
    assert first.returncode == 130, first.stdout[-3000:]
    assert last_line(first.stdout) == (
        "prepare interrupted on target lab: stopped partway; "
        "rerun `fab prepare --target lab` to converge"
    )
    assert "Results:" not in first.stdout  # it stopped halfway, not at the end
    rerun = lab.fab("prepare")
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert_no_duplicate_ssh_lines(lab)
    assert_converged(lab, "prepare")
    assert_no_duplicate_ssh_lines(lab)
    assert lab.out("node1", "stat -c %a ~/.ssh/id_rsa") == "600"
    assert "gourmetops" not in lab.out("node1", "ls -A ~/.ssh")  # no generator's file left


def test_ctrl_c_in_the_registry_stage_then_the_rerun_converges(lab: Lab):
    lab = docker_ready(lab)  # prepared, with the engine the cluster stage leaves
    second = ctrl_c(lab, REGISTRY_RUN, "registry")
    assert second.returncode == 130, second.stdout[-3000:]
    assert last_line(second.stdout).startswith("registry interrupted on target lab: ")
    assert "Results:" not in second.stdout
    rerun = lab.fab("registry")
    assert rerun.returncode == 0, rerun.stdout[-3000:]

    assert_no_duplicate_registry_lines(lab)
    assert_converged(lab, "registry")
    assert_no_duplicate_registry_lines(lab)
