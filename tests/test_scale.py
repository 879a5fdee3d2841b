"""The lab at twelve nodes: cluster.yaml grown by `fab lab.scale` (gourmetops.lab.scaled),
every worker reached through node1, all at once. Fresh nodes meet node1's stock sshd
(MaxStartups 10:30:100 drops connections past ten still authenticating; MaxSessions 10
refuses an eleventh session on one connection): `fab check` and the first prepare get
through, prepare sizes node1's sshd for the jump host's role, a second run changes nothing,
and the state is the one the benchmark's check holds both tools to."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from benchmarks.ansible_reference import state_problems
from gourmetops import lab as labmod
from gourmetops.cluster import CLUSTER_ENV, load_cluster
from gourmetops.jump import SSHD_DROPIN, max_startups
from gourmetops.targets import lab_target
from tests.labtools import Lab, check_row, results_total

NODES = 12


@pytest.fixture(scope="module")
def lab12(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, dict]]:
    path = tmp_path_factory.mktemp("scale") / f"cluster-{NODES}.yaml"
    made = lab.fab("lab.scale", "--nodes", str(NODES))
    assert made.returncode == 0, made.stdout
    written = re.search(r"wrote (\S+)", made.stdout)
    assert written, made.stdout
    path.write_text(open(written.group(1)).read())
    target = lab_target(load_cluster(path))
    assert [n.name for n in target.cluster.nodes] == [f"node{i}" for i in range(1, NODES + 1)]
    labmod.down(lab.target)
    labmod.up(target)
    try:
        yield Lab(target), {CLUSTER_ENV: str(path)}
    finally:
        labmod.reset(lab.target)  # back to the session's three pristine nodes


def test_check_reaches_all_twelve_through_a_stock_jump_host(lab12):
    """Fresh nodes: node1's sshd still drops connections past ten authenticating, and the
    check's one round reaches every node at once; each drop is tried again."""
    lab, env = lab12
    result = lab.fab("check", "--target", "lab", "--when", "pre", env=env)
    for node in lab.nodes:
        assert " ok " in check_row(result.stdout, node, "ssh"), result.stdout[-4000:]
    # firewalld, active on fresh nodes, would drop every probe: none is waited on, and each
    # row is prepare's to fix
    for node in lab.nodes:
        reach = check_row(result.stdout, node, "ports-reach")
        assert "FAIL  not probed: firewalld, active on it, would drop them" in reach, reach
        assert "fix: `fab prepare` stops firewalld" in reach


def test_prepare_twice_at_twelve_nodes_through_one_jump_host(lab12):
    lab, env = lab12
    first = lab.fab("prepare", "--target", "lab", env=env)
    assert first.returncode == 0, first.stdout[-4000:]
    assert "Traceback" not in first.stdout  # a dropped, retried connection is no error
    assert f"sshd MaxStartups {max_startups(NODES)}" in first.stdout
    assert lab.out("node1", f"cat {SSHD_DROPIN}").endswith(f"MaxStartups {max_startups(NODES)}")
    effective = lab.out("node1", "sudo sshd -T | grep -i '^maxstartups'")
    assert effective == f"maxstartups {max_startups(NODES)}"

    again = lab.pyinfra("prepare", env={**os.environ, **env})
    assert again.returncode == 0, again.stdout[-4000:]
    total = results_total(again.stdout)
    assert total["success"] == "-" and total["error"] == "-", again.stdout[-4000:]
    assert state_problems(lab.target) == []


def test_check_passes_on_all_twelve_once_prepared(lab12):
    lab, env = lab12
    result = lab.fab("check", "--target", "lab", "--when", "pre", env=env)
    assert result.returncode == 0, result.stdout[-4000:]
