"""gourmetops.waiting: the one helper every bounded wait goes through, on a clock the test
owns (no wall time passes, so no verdict here depends on the machine)."""

from __future__ import annotations

import pytest

from gourmetops.waiting import poll, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def test_a_state_reached_during_the_last_sleep_still_counts():
    clock = FakeClock()
    # Ready at t=10 exactly, the deadline: the check at the deadline sees it.
    assert wait_until(lambda: "up" if clock.t >= 10 else None, 10, 3, clock) == "up"
    assert clock.sleeps == [3, 3, 3, 1]  # the last sleep cut to the deadline


def test_the_time_up_is_none_or_the_callers_error():
    clock = FakeClock()
    assert wait_until(lambda: None, 5, 2, clock) is None and clock.t == 5
    with pytest.raises(TimeoutError, match="node1 not up in 5s"):
        poll(lambda: None, 5, 2, lambda: TimeoutError("node1 not up in 5s"), clock)


def test_a_check_is_made_once_even_with_no_time_and_its_errors_pass_through():
    clock = FakeClock()
    calls: list[float] = []
    assert wait_until(lambda: calls.append(clock.t), 0, 1, clock) is None
    assert calls == [0.0] and clock.sleeps == []

    def refused() -> None:
        raise ConnectionRefusedError("ssh exited")

    with pytest.raises(ConnectionRefusedError):
        poll(refused, 60, 1, lambda: TimeoutError("never"), clock)
    assert clock.t == 0.0  # a check that raises ends the wait at once
