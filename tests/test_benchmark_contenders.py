"""The benchmarks' contenders without the lab: the tables of benchmarks/prepare_vs_ansible.py
and benchmarks/scale_curve.py give every contender, "ansible, mitogen" included, its rows
and its ratio to ours (from made-up times); a scale JSON recorded before Mitogen was a
contender still renders; a contender's failed run (Mitogen's lost node) is recorded with why
and the rounds go on, while a round where every contender failed stops the benchmark."""

from __future__ import annotations

import pytest

from benchmarks import prepare_vs_ansible, scale_curve
from benchmarks.mitogen import MitogenError
from benchmarks.prepare_vs_ansible import Rounds

NAMES = list(prepare_vs_ansible.CONTENDERS)


def times(ours: float) -> dict[str, list[float]]:
    """Ours at `ours` seconds, each next contender one second slower (a known ratio)."""
    return {name: [ours + i, ours + i + 2, ours + i - 0.5] for i, name in enumerate(NAMES)}


def test_the_mitogen_contender_is_measured_by_both_benchmarks():
    assert NAMES == ["pyinfra (ours)", "ansible", "ansible, pipelining", "ansible, mitogen"]


def test_prepare_table_has_mitogen_rows_and_ratio():
    measured = Rounds(times(2.0), times(1.0), {name: [] for name in NAMES})
    text = prepare_vs_ansible.tables(measured, {"`fab lab.up` warm": [0.5]})
    assert "| ansible, mitogen, first run | 5.00 | 4.50 | 7.00 | 3 |" in text
    assert "| ansible, mitogen, no-op rerun | 4.00 | 3.50 | 6.00 | 3 |" in text
    assert "| `fab lab.up` warm | 0.50 | 0.50 | 0.50 | 1 |" in text
    assert "| ansible, mitogen | 2.50x | 4.00x |" in text
    assert "| ansible | 1.50x | 2.00x |" in text


def test_scale_tables_with_and_without_mitogen_times():
    now = {"nodes": 3, "first": times(2.0), "noop": times(1.0), "lab_up_s": 6.0}
    now |= {"memory_idle_mb": [60.0], "memory_prepared_mb": [20.0]}
    text = scale_curve.tables([now])
    assert "ansible, mitogen, first / no-op (s) |" in text
    assert "| 3 | 2.00 / 1.00 | 3.00 / 2.00 | 4.00 / 3.00 | 5.00 / 4.00 |" in text
    assert "| 3 | 1.50x / 2.00x | 2.00x / 3.00x | 2.50x / 4.00x |" in text

    before = {**now, "first": dict(list(times(2.0).items())[:3])}
    before["noop"] = dict(list(times(1.0).items())[:3])
    assert scale_curve.contenders([now, before]) == NAMES[:3]
    assert "mitogen" not in scale_curve.tables([before, now])


RECAP_LOST_NODE12 = """ansible-playbook failed (4):
PLAY RECAP *********
node1  : ok=9 changed=7 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0
node12 : ok=0 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0
"""


@pytest.fixture
def no_lab(monkeypatch):
    """The rounds' bookkeeping without the lab: resetting the nodes and reading their state
    are stand-ins (the lab benchmark does both for real); the contenders are made up."""
    monkeypatch.setattr(prepare_vs_ansible.labmod, "reset", lambda target: None)
    monkeypatch.setattr(prepare_vs_ansible, "state_problems", lambda target: [])
    runs = iter(range(1000))

    def fine(target):
        return 1.0, next(runs) % 4 == 0  # a first run changes, its three reruns do not

    for name in NAMES:
        monkeypatch.setitem(prepare_vs_ansible.CONTENDERS, name, fine)
    return monkeypatch


def test_a_contenders_failed_run_is_recorded_and_the_rounds_go_on(no_lab, capsys):
    # round 1: a first run that changes, three reruns that do not; round 2's first run
    # loses node12; round 3 as round 1
    outcomes = iter([True, False, False, False, "lost", True, False, False, False])

    def mitogen(target):
        changed = next(outcomes)
        if changed == "lost":
            raise RuntimeError(RECAP_LOST_NODE12)
        return 5.0, changed

    no_lab.setitem(prepare_vs_ansible.CONTENDERS, "ansible, mitogen", mitogen)
    measured = prepare_vs_ansible.measure_rounds(None, rounds=3, noop_repeats=3, label="12 nodes, ")
    assert measured.failed["ansible, mitogen"] == [
        "round 2, first run: node12 : ok=0 changed=0 unreachable=1 failed=0 skipped=0 "
        "rescued=0 ignored=0"
    ]
    assert len(measured.first["ansible, mitogen"]) == 2  # rounds 1 and 3
    assert len(measured.noop["ansible, mitogen"]) == 6
    assert all(len(measured.first[n]) == 3 and not measured.failed[n] for n in NAMES[:3])
    assert "12 nodes, round 2 ansible, mitogen: FAILED: round 2, first run: node12" in (
        capsys.readouterr().out
    )
    text = prepare_vs_ansible.tables(measured, {})
    assert "| ansible, mitogen, first run | 5.00 | 5.00 | 5.00 | 2 |" in text
    assert text.endswith(
        "| failed run (no time recorded) | why |\n|---|---|\n"
        f"| ansible, mitogen | {measured.failed['ansible, mitogen'][0]} |"
    )


def test_a_rerun_that_changes_is_a_failed_run(no_lab):
    no_lab.setitem(prepare_vs_ansible.CONTENDERS, "ansible", lambda target: (2.0, True))
    measured = prepare_vs_ansible.measure_rounds(None, rounds=1, noop_repeats=3)
    assert measured.failed["ansible"] == ["round 1, no-op rerun 1: it reported changes"]
    assert measured.first["ansible"] == [2.0] and measured.noop["ansible"] == []


def test_a_round_where_every_contender_failed_stops_the_benchmark(no_lab):
    for name in NAMES:
        no_lab.setitem(prepare_vs_ansible.CONTENDERS, name, lambda target: (1.0, False))
    with pytest.raises(SystemExit, match="3 nodes, round 1: every contender failed: round 1, "):
        prepare_vs_ansible.measure_rounds(None, rounds=3, noop_repeats=1, label="3 nodes, ")


def test_a_contender_without_a_successful_run_has_no_ratio():
    measured = Rounds(times(2.0), times(1.0), {name: [] for name in NAMES})
    measured.first["ansible, mitogen"], measured.noop["ansible, mitogen"] = [], []
    text = prepare_vs_ansible.tables(measured, {})
    assert "| ansible, mitogen, no-op rerun | - | - | - | 0 |" in text
    assert "| ansible, mitogen | - | - |" in text
    size = {"nodes": 12, "first": measured.first, "noop": measured.noop, "lab_up_s": 9.0}
    size |= {"memory_idle_mb": [60.0], "memory_prepared_mb": [20.0]}
    size["failed"] = {"ansible, mitogen": ["round 1, first run: node12 unreachable"]}
    text = scale_curve.tables([size])
    assert "| 12 | 1.50x / 2.00x | 2.00x / 3.00x | - / - |" in text
    assert text.endswith("| 12 | ansible, mitogen | round 1, first run: node12 unreachable |")


def test_a_run_mitogen_did_not_carry_is_a_failed_run_with_one_line(monkeypatch):
    def not_carried(target):
        raise MitogenError("Mitogen did not carry the run: node2: mitogen_get_stack skipped")

    monkeypatch.setitem(prepare_vs_ansible.CONTENDERS, "ansible, mitogen", not_carried)
    with pytest.raises(prepare_vs_ansible.RunFailed) as failed:
        prepare_vs_ansible.run_contender("ansible, mitogen", None)
    assert prepare_vs_ansible.one_line(str(failed.value)) == (
        "Mitogen did not carry the run: node2: mitogen_get_stack skipped"
    )
