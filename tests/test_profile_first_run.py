"""benchmarks/profile_first_run.py without the lab: a stamped pyinfra output cut into the
phases pyinfra announces (`--> ...`), each running until the next or the end."""

from __future__ import annotations

import pytest

from benchmarks.profile_first_run import spans


def test_spans_run_from_each_phase_to_the_next():
    lines = [
        (0.70, "--> Loading config..."),
        (0.80, "    [node1] something"),
        (1.00, "--> Connecting to hosts..."),
        (1.30, "--> Starting operation: Generate the cluster key"),
        (3.30, "(exit 0)"),
    ]
    got = spans(lines)
    assert [what for what, _, _ in got] == [
        "(python start, pyinfra imports)",
        "--> Loading config...",
        "--> Connecting to hosts...",
        "--> Starting operation: Generate the cluster key",
    ]
    assert [start for _, start, _ in got] == [0.0, 0.70, 1.00, 1.30]
    assert [seconds for _, _, seconds in got] == pytest.approx([0.70, 0.30, 0.30, 2.00])
