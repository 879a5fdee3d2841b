"""The experiment's scale-down verdict from sequences of replica observations (pure logic:
no cluster, no clock; the `t` values are what the watch loop would record)."""

from __future__ import annotations

from gourmetops.load.report import scale_down_summary
from gourmetops.load.scale_down_watch import ScaleDownWatch


def watch(replicas: list[int], peak_during_load: int = 0, timeout: float = 60) -> ScaleDownWatch:
    """Feed observations 10 s apart until the watch says it is over; returns it."""
    w = ScaleDownWatch(minimum=2, timeout=timeout, peak=peak_during_load)
    for i, r in enumerate(replicas):
        if w.observe({"t": 10.0 * i, "replicas": r}):
            return w
    raise AssertionError(f"the watch never ended after {replicas}")


def test_scaled_down_only_after_a_scale_up_is_seen():
    w = watch([6, 6, 4, 2, 2])
    assert [s["replicas"] for s in w.samples] == [6, 6, 4, 2]  # stops at the minimum
    result = w.result()
    assert result["outcome"] == "scaled_down" and result["reached"] is True
    assert (result["peak"], result["min"], result["seconds"]) == (6, 2, 30.0)
    assert scale_down_summary(result).startswith("scaled down: from a peak of 6 replicas")


def test_at_the_minimum_all_along_is_no_scale_up_not_a_scale_down():
    """The old watch said reached=True on the first sample here."""
    w = watch([2, 2, 2, 2, 2, 2, 2, 2])
    assert len(w.samples) == 7  # watched to the timeout (t=60) for a late scale-up
    result = w.result()
    assert result["outcome"] == "no_scale_up"
    assert result["reached"] is False and result["scaled_up"] is False
    assert "no scale-up observed" in scale_down_summary(result)


def test_below_the_minimum_without_a_scale_up_is_no_scale_up():
    result = watch([1, 1, 2, 2, 2, 2, 2]).result()
    assert result["outcome"] == "no_scale_up" and result["reached"] is False


def test_a_scale_up_seen_during_the_load_tests_counts():
    w = watch([2], peak_during_load=5)
    result = w.result()
    assert result["outcome"] == "scaled_down" and result["peak"] == 5
    assert result["seconds"] == 0.0


def test_a_late_scale_up_then_down_within_the_watch():
    result = watch([2, 2, 3, 3, 2]).result()
    assert result["outcome"] == "scaled_down" and result["peak"] == 3


def test_still_scaled_up_at_the_timeout():
    result = watch([6, 6, 6, 5, 4, 4, 3]).result()
    assert result["outcome"] == "still_scaled_up" and result["reached"] is False
    assert scale_down_summary(result).startswith("not scaled down: 3 replicas (peak 6)")
