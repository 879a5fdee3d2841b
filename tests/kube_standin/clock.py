"""The stand-in's time: modelled seconds that move only at defined points, never because the
machine is fast or slow.

The cluster holds its modelled time (`Cluster.now()`) and moves it forward in steps of at
most `STEP` seconds, running its controllers (deployment, HPA, kubelet readiness,
metrics) at each step, so a long advance is a sequence of syncs, never a batch replayed at
one instant. What moves it:

- `ModelClock`: gourmetops' Clock (gourmetops/waiting.py) for the code under test. A wait's
  sleep of N seconds is N modelled seconds for the controllers, so a 300 s HPA window takes
  no wall time and the order of events is the same on any machine.
- `Simulated(step)`: each request (and each round of a watch stream) moves time by `step`
  modelled seconds; with 0 only `Cluster.advance()` and `ModelClock` do. For clients in
  another process (`fab` through the SSH tunnel, kubectl), whose sleeps we cannot see.
- `Wall(speed)`: modelled time follows the wall clock `speed` times faster, for people
  watching the stand-in live (`python -m tests.kube_standin --speed 100`). No test uses it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tests.kube_standin.cluster import Cluster

STEP = 1.0  # modelled seconds per controller round: finer than every period modelled (5 s+)


class Pace(Protocol):
    def target(self, now: float) -> float:
        """Where modelled time should be when a request arrives at `now`."""
        ...


class Simulated:
    def __init__(self, step: float = 0.0) -> None:
        self.step = step

    def target(self, now: float) -> float:
        return now + self.step


class Wall:
    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.t0 = time.monotonic()

    def target(self, now: float) -> float:
        return max(now, (time.monotonic() - self.t0) * self.speed)


class ModelClock:
    """now() and sleep() on the cluster's modelled time (gourmetops.waiting.Clock)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def now(self) -> float:
        return self.cluster.now()

    def sleep(self, seconds: float) -> None:
        self.cluster.advance(seconds)
