"""Waiting on something outside us (a cluster, a node) through one helper and one clock.

Every wait reads its time from a `Clock` and sleeps through it, so the same wait runs on the
wall clock for users and on a simulated clock in tests (tests/kube_standin's ModelClock),
where a sleep is the time the stand-in's controllers get to run. No verdict then depends on
how fast the machine is.

    >>> poll(lambda: reply or None, timeout=30, every=2, on_timeout=lambda: KubeError("..."))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale (only differences mean anything)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The machine's monotonic clock: what users' runs wait on."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()


def wait_until(
    check: Callable[[], T | None], timeout: float, every: float, clock: Clock = SYSTEM_CLOCK
) -> T | None:
    """`check()` until it returns something other than None (returned), at most `timeout`
    seconds on `clock`, sleeping `every` seconds between calls; None when the time is up.
    `check` is always called at least once, and once more at the deadline, so a state
    reached during the last sleep still counts."""
    deadline = clock.now() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        left = deadline - clock.now()
        if left <= 0:
            return None
        clock.sleep(min(every, left))


def poll(
    check: Callable[[], T | None],
    timeout: float,
    every: float,
    on_timeout: Callable[[], Exception],
    clock: Clock = SYSTEM_CLOCK,
) -> T:
    """wait_until, with `on_timeout()` raised when the time is up: its message says what
    was awaited and for how long."""
    value = wait_until(check, timeout, every, clock)
    if value is None:
        raise on_timeout()
    return value
