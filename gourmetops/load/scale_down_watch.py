"""The experiment's scale-down verdict, from replica observations: a scale-down counts only
after a scale-up was seen (load/experiment.py watches with it after the last load test)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScaleDownWatch:
    """Whether the HPA scaled back down, judged from replica observations.

    Reaching the minimum only counts as a scale-down after replicas were seen above it
    (during the autoscaling load tests or the watch): an HPA that never scaled up sits at
    its minimum from the start, and calling that "scaled down" would hide it."""

    minimum: int
    timeout: float
    peak: int = 0  # highest ready replica count seen so far, load tests included
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def scaled_up(self) -> bool:
        return self.peak > self.minimum

    def observe(self, point: dict[str, Any]) -> bool:
        """Record one sample ({"t", "replicas", ...}); True when the watch is over.
        Without a scale-up seen yet it watches on to the timeout: lagging metrics can still
        bring a late one."""
        self.samples.append(point)
        replicas = point.get("replicas") or 0
        self.peak = max(self.peak, replicas)
        if self.scaled_up and replicas <= self.minimum:
            return True
        return point["t"] >= self.timeout

    def outcome(self) -> str:
        """scaled_down, still_scaled_up or no_scale_up."""
        last = (self.samples[-1].get("replicas") or 0) if self.samples else 0
        if not self.scaled_up:
            return "no_scale_up"
        return "scaled_down" if last <= self.minimum else "still_scaled_up"

    def result(self) -> dict[str, Any]:
        outcome = self.outcome()
        return {
            "outcome": outcome,
            "reached": outcome == "scaled_down",
            "scaled_up": self.scaled_up,
            "peak": self.peak,
            "min": self.minimum,
            "seconds": self.samples[-1]["t"] if self.samples else 0,
            "samples": self.samples,
        }
