"""`fab check` end to end without a node: the runner with ssh replaced by the recorded
probe outputs (tests/fixtures/check/) and by ssh's own failure text, the reachability
script run for real on loopback addresses (127.0.0.x, no other network), the table, the
gate `fab up` applies, and the flags."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from gourmetops.check import gate, ports, run, table
from gourmetops.check.parse import Listener
from gourmetops.check.rows import Row
from gourmetops.context import RunContext
from gourmetops.errors import InputError
from tests.cli import fab
from tests.test_check_parse import limits  # noqa: F401  (the module-scoped fixture)

HERE = Path(__file__).parent / "fixtures" / "check"
# What ssh prints when the node behind the jump host refuses: the cause, then the jump's line.
SSH_REFUSED = (
    "ssh: connect to host 10.254.1.13 port 22: Connection refused\r\n"
    "Connection closed by UNKNOWN port 65535\r\n"
)


def fake_ssh(replies: dict[str, tuple[int, str, str]]):
    """ssh_all answering from `replies` (rc, stdout, stderr); the second (reachability)
    round answers as if every connect had succeeded."""

    def ssh_all(target, commands):
        out = {}
        for node, (command, _stdin) in commands.items():
            if command.startswith("python3"):
                plan = json.loads(shlex.split(command)[-1])
                doc = {"bind": {}, "connect": [[p, n, ""] for p, _a, n in plan["connect"]]}
                out[node] = run.Reply(node, 0, json.dumps(doc) + "\n", "", 0.0, 0.1)
            else:
                rc, text, err = replies[node]
                out[node] = run.Reply(node, rc, text, err, 1718011512.1, 1718011512.7)
        return out

    return ssh_all


@pytest.fixture
def lab_ctx() -> RunContext:
    return RunContext("lab")


def test_unreachable_node_is_an_ssh_row_naming_sshs_error(monkeypatch, lab_ctx, limits):  # noqa: F811
    debian = (HERE / "debian-12-node.txt").read_text()
    fixed = {n: debian.replace("node3\n\n@@gourmetops:resolve", f"{n}\n\n@@gourmetops:resolve")
             .replace("192.168.1.", "10.254.1.") for n in ("node1", "node2")}  # fmt: skip
    replies = {"node1": (0, fixed["node1"], ""), "node2": (0, fixed["node2"], ""),
               "node3": (255, "", SSH_REFUSED)}  # fmt: skip
    monkeypatch.setattr(run, "ssh_all", fake_ssh(replies))
    rows = run.check(lab_ctx, "pre", (), limits)
    ssh = {r.node: r for r in rows if r.check == "ssh"}
    assert ssh["node1"].ok and ssh["node2"].ok and "through node1 (ProxyJump)" in ssh["node2"].found
    assert not ssh["node3"].ok and "port 22: Connection refused" in ssh["node3"].found
    assert [r.check for r in rows if r.node == "node3"] == ["ssh"]
    reach = {r.node: r for r in rows if r.check == "ports-reach"}
    assert set(reach) == {"node1", "node2"} and all(r.ok for r in reach.values())
    # the lab's own skips, with their reasons, stay visible
    assert {r.check for r in rows if r.skipped} == {"swap", "modules"}
    failed = [(r.node, r.check) for r in rows if r.failed]
    assert failed == [("node3", "ssh")], failed
    text = table.render(rows, "pre-checks (lab):")
    assert "node3  ssh" in text and "FAIL" in text
    assert (
        "fix: connection refused: nothing accepts SSH at 10.254.1.13:22: check the address and "
        "that node3 is up; try it yourself: ssh -F .state/lab/ssh_config node3 true"
    ) in text
    assert text.splitlines()[-1].endswith("failed, 4 skipped: node3 ssh")


def test_skip_check_is_named_and_unknown_names_refused(monkeypatch, lab_ctx, limits):  # noqa: F811
    replies = {n: (255, "", SSH_REFUSED) for n in ("node1", "node2", "node3")}
    monkeypatch.setattr(run, "ssh_all", fake_ssh(replies))
    rows = run.check(lab_ctx, "pre", ["ssh"], limits)
    assert all(r.skipped == "--skip-check" for r in rows if r.check == "ssh")
    with pytest.raises(InputError, match="did you mean 'ports-free'"):
        run.check(lab_ctx, "pre", ["ports_free"], limits)


def test_ports_needed_by_role_and_free_or_held_by_their_component():
    need = ports.needed(("kube_control_plane", "kube_node", "etcd"), 5000)
    assert [p.number for p in need] == [2379, 2380, 5000, 6443, 10250, 10257, 10259]
    assert [p.number for p in ports.needed(("kube_node", "etcd"), None)] == [2379, 2380, 10250]
    held = [Listener("10.254.1.11", 5000, "docker-proxy (pid 812)"),
            Listener("0.0.0.0", 6443, "python3 (pid 99)")]  # fmt: skip
    row = ports.free_row("node1", need, held)
    assert not row.ok and "6443 by python3 (pid 99) on 0.0.0.0" in row.found
    assert "5000 by docker-proxy" in row.found and "sudo ss -ltnp" in row.fix
    plan = ports.reach_plan(
        {"node1": need, "node2": need[:2]},
        {"node1": held, "node2": []},
        {"node1": "127.0.0.2", "node2": "127.0.0.3"},
    )
    assert [n for _a, n in plan["node1"]["listen"]] == [2379, 2380, 10250, 10257, 10259]
    assert [n for _p, _a, n in plan["node2"]["connect"]] == [2379, 2380, 5000, 10250, 10257, 10259]


def test_reachability_script_on_loopback_one_round():
    """The real script, as each node runs it, on 127.0.0.2-4 (three 'nodes' on this
    machine): listeners up, every peer connects, and a port nobody listens on is named."""
    addresses = {"a": "127.0.0.2", "b": "127.0.0.3", "c": "127.0.0.4"}
    needs = {n: [ports.Port(47101, ()), ports.Port(47102, ())] for n in addresses}
    plan = ports.reach_plan(needs, {n: [] for n in addresses}, addresses)
    plan["c"]["listen"] = plan["c"]["listen"][:1]  # c fails to open 47102
    # No round may wait for its deadline: c's connects show its listeners are open, so the
    # refusal on 47102 is final at once (a hang here fails on communicate's timeout).
    for p in plan.values():
        p["deadline"] = 3600
    procs = {
        n: subprocess.Popen(
            ["sh", "-c", ports.reach_command(p)],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,  # so that a hung round's python3 is killed with its sh
        )
        for n, p in plan.items()
    }
    try:
        results = {n: json.loads(p.communicate(timeout=60)[0]) for n, p in procs.items()}
    finally:
        for proc in procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    rows = {r.node: r for r in ports.reach_rows(plan, results)}
    assert rows["a"].ok and rows["b"].ok and "47101 47102 answer from every peer" in rows["a"].found
    assert not rows["c"].ok and "47102 from a, b: [Errno 111] Connection refused" in rows["c"].found
    assert rows["c"].converged_by is None and "cloud rules" in rows["c"].fix


def test_a_firewalled_node_is_left_out_of_the_round_and_is_prepares_to_fix():
    """firewalld, active on c, would drop every connection to it until the deadline: c
    only connects (its peers still expect it), nobody waits on c's ports, and its row is
    prepare's to fix, so `fab up` lets it through instead of waiting to learn nothing."""
    addresses = {"a": "127.0.0.2", "b": "127.0.0.3", "c": "127.0.0.4"}
    needs = {n: [ports.Port(47101, ())] for n in addresses}
    plan = ports.reach_plan(needs, {n: [] for n in addresses}, addresses, firewalled={"c"})
    assert plan["c"]["listen"] == [] and plan["a"]["expect"] == 2
    assert [p for p, _a, _n in plan["a"]["connect"]] == ["b"]
    assert [p for p, _a, _n in plan["c"]["connect"]] == ["a", "b"]
    results = {n: {"connect": [[p, port, ""] for p, _a, port in plan[n]["connect"]]} for n in plan}
    rows = {r.node: r for r in ports.reach_rows(plan, results, firewalled={"c"})}
    assert rows["a"].ok and rows["b"].ok
    blocked = rows["c"]
    assert not blocked.ok and blocked.converged_by == "prepare"
    assert blocked.found == "not probed: firewalld, active on it, would drop them"


def test_gate_lets_through_what_a_stage_fixes():
    rows = [
        Row("node1", "firewalld", "firewalld active, enabled", False, "x", "prepare"),
        Row("node1", "ports-free", "taken: 6443", False, "stop it"),
        Row("node2", "swap", "", True, skipped="--skip-check"),
    ]
    assert gate.blocking(rows, ["prepare", "cluster"]) == [rows[1]]
    assert gate.blocking(rows, ["cluster"]) == rows[:2]
    assert "(`fab up` runs prepare, which does this)" in table.render(rows, "t")
    # in `fab up`, what a stage of the run puts right reads "todo", not FAIL
    up = table.render(rows, "t", only_attention=True, stages=["prepare", "cluster"])
    assert "node1  firewalld   todo  firewalld active, enabled" in up
    assert "(this run's prepare stage does this)" in up
    assert "node1  ports-free  FAIL  taken: 6443" in up
    assert up.splitlines()[-1] == (
        "  0 ok, 1 failed, 1 todo, 1 skipped: node1 ports-free, node1 firewalld "
        "(`fab check` shows every row)"
    )


def test_flags_are_checked_before_any_node_is_contacted():
    bad = fab("check", "--when", "later")
    assert bad.code == 1 and "--when 'later': must be one of pre, post" in bad.out
    unknown = fab("check", "--skip-check", "dsik")
    assert (
        unknown.code == 1
        and "--skip-check 'dsik': not a pre check; did you mean 'disk'" in unknown.out
    )
    assert "--skip-check" in fab("up", "--help").out


def test_check_skip_setting_is_validated():
    from pydantic import ValidationError

    from gourmetops.settings import target_settings, validate
    from gourmetops.settings_schema import Settings

    values, _ = target_settings("lab")
    with pytest.raises(ValidationError, match="'swapp' is not a check"):
        Settings.model_validate({**values, "check_skip": {"swapp": "why"}})
    assert validate(values, {}).check_skip.keys() == {"swap", "modules"}


def test_probe_scripts_are_posix_sh_with_every_value_quoted():
    from gourmetops.check import probe

    hostile = "node9; touch /tmp/pwned"
    script = probe.pre_script(
        [hostile], ["ip_vs"], ["/var/lib/$(id)"], ["docker-ce"], "/etc/apt/sources.list.d/it's.list"
    )
    subprocess.run(["sh", "-n"], input=script, text=True, check=True)
    assert shlex.quote(hostile) in script and shlex.quote("/var/lib/$(id)") in script
    post_script = probe.post_script(["docker"], "node1:5000/app:latest", True, "http://x/test")
    subprocess.run(["sh", "-n"], input=post_script, text=True, check=True)


def test_every_node_is_probed_at_once(tmp_path):
    """ssh_all runs every node's command at the same time, so the checks' time stays flat as
    nodes are added: each of 12 stand-in 'ssh' commands (a local sh; nothing leaves the
    machine) waits until all 12 have started, which never happens if they run in turns."""
    here = tmp_path / "started"
    here.mkdir()
    barrier = (
        'cat >/dev/null; touch "$1/$0"; '
        'for i in $(seq 200); do [ "$(ls "$1" | wc -l)" -ge 12 ] && break; sleep 0.05; done; '
        'echo "$0 $(ls "$1" | wc -l)"'
    )

    class Local:
        def ssh_argv(self, node, command, options=()):
            return ["sh", "-c", barrier, node, str(here)]

    replies = run.ssh_all(Local(), {f"n{i}": ("sh -s", "x") for i in range(12)})
    assert [r.out.split() for r in replies.values()] == [[f"n{i}", "12"] for i in range(12)]


def test_a_dry_fab_up_fetches_no_kubespray_for_its_pre_checks(tmp_path, capsys):
    """Without the checkout on the controller a dry run says what a real run would fetch,
    and checks nothing (no node is contacted: the context has no target to reach)."""
    from types import SimpleNamespace

    source = f"https://127.0.0.1:9/{tmp_path.name}/kubespray"  # never cached, never fetched
    ctx = SimpleNamespace(
        name="lab", settings=SimpleNamespace(kubespray_source=source, kubespray_ref="v9.9.9")
    )
    assert gate.pre_checks(ctx, (), ["prepare"], dry=True) == []
    said = capsys.readouterr().out
    assert f"and {source} is not on the controller yet; a real run clones it" in said


def test_a_node_blocked_from_twelve_peers_is_one_readable_line():
    """At twelve nodes a firewalled node1 is 77 failed (port, peer) pairs: said once per
    error and set of peers, not pair by pair."""
    nodes = [f"node{i}" for i in range(1, 13)]
    blocked = [2379, 2380, 5000, 6443, 10250, 10257, 10259]
    plan = {n: {} for n in nodes}
    results = {
        n: {"connect": [["node1", p, "timed out"] for p in blocked] + [["node2", 10250, ""]]}
        for n in nodes[1:]
    }
    results["node3"]["connect"].append(["node2", 2379, "[Errno 111] Connection refused"])
    rows = {r.node: r for r in ports.reach_rows(plan, results)}
    assert (
        rows["node1"].found
        == "2379 2380 5000 6443 10250 10257 10259 from every peer (11): timed out"
    )
    assert rows["node2"].found == "2379 from node3: [Errno 111] Connection refused"
    assert rows["node4"].ok
