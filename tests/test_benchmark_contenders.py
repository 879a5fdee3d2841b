"""The benchmarks' contenders without the lab: the tables of benchmarks/prepare_vs_ansible.py
and benchmarks/scale_curve.py give every contender, "ansible, mitogen" included, its rows
and its ratio to ours (from made-up times); a scale JSON recorded before Mitogen was a
contender still renders; a run Mitogen did not carry stops the benchmark with one line."""

from __future__ import annotations

import pytest

from benchmarks import prepare_vs_ansible, scale_curve
from benchmarks.mitogen import MitogenError

NAMES = list(prepare_vs_ansible.CONTENDERS)


def times(ours: float) -> dict[str, list[float]]:
    """Ours at `ours` seconds, each next contender one second slower (a known ratio)."""
    return {name: [ours + i, ours + i + 2, ours + i - 0.5] for i, name in enumerate(NAMES)}


def test_the_mitogen_contender_is_measured_by_both_benchmarks():
    assert NAMES == ["pyinfra (ours)", "ansible", "ansible, pipelining", "ansible, mitogen"]


def test_prepare_table_has_mitogen_rows_and_ratio():
    text = prepare_vs_ansible.tables(times(2.0), times(1.0), {"`fab lab.up` warm": [0.5]})
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


def test_a_run_mitogen_did_not_carry_stops_the_benchmark_with_one_line(monkeypatch):
    def not_carried(target):
        raise MitogenError("Mitogen did not carry the run: node2: mitogen_get_stack skipped")

    monkeypatch.setitem(prepare_vs_ansible.CONTENDERS, "ansible, mitogen", not_carried)
    with pytest.raises(SystemExit) as stopped:
        prepare_vs_ansible.run_contender("ansible, mitogen", None, "12 nodes, ")
    assert str(stopped.value) == (
        "12 nodes, ansible, mitogen: Mitogen did not carry the run: "
        "node2: mitogen_get_stack skipped"
    )
