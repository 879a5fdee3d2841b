"""Each short flag means one thing in every task (invoke's automatic short flags gave -d to
--dry in `up` and to --duration in `experiment`): read from the tasks as Fabric builds them,
and from `fab --help` as a user reads it."""

from __future__ import annotations

from collections import defaultdict

from invoke import Collection

from tasks import ns
from tasks.common import SHORT_FLAGS
from tests.cli import fab


def _flags(collection: Collection, prefix: str = "") -> dict[str, list[list[str]]]:
    """Task name -> the names of each of its flags (long first), as Fabric parses them."""
    found = {
        prefix + name: [sorted(a.names, key=len, reverse=True) for a in t.get_arguments()]
        for name, t in collection.tasks.items()
    }
    for name, sub in collection.collections.items():
        found |= _flags(sub, f"{prefix}{name}.")
    return found


def test_a_short_flag_never_means_two_long_flags():
    meanings: dict[str, set[str]] = defaultdict(set)
    for names in (n for flags in _flags(ns).values() for n in flags):
        for short in (n for n in names if len(n) == 1):
            meanings[short].add(names[0])
    assert {s: sorted(longs) for s, longs in meanings.items() if len(longs) > 1} == {}
    assert {s: longs.pop() for s, longs in meanings.items()} == {
        s: long for long, s in SHORT_FLAGS.items() if s in meanings
    }


def test_every_task_offers_the_same_short_flag_for_the_same_long_one():
    for task, flags in _flags(ns).items():
        for names in flags:
            want = SHORT_FLAGS.get(names[0])
            assert names[1:] == ([want] if want else []), (task, names)


def _options(task: str) -> list[str]:
    """The flag column of `fab --help TASK`: each option line's names."""
    lines = fab("--help", task).out.splitlines()
    return [line.split("  ")[1] for line in lines if line.startswith("  -")]


def test_fab_help_shows_dry_as_d_and_duration_long_only():
    experiment = _options("experiment")
    assert "-d, --dry" in experiment and "--duration=STRING" in experiment
    with_d = [o for o in experiment if "-d" in (n.split()[0] for n in o.split(", "))]
    assert with_d == ["-d, --dry"]
    assert {"-d, --dry", "-t STRING, --target=STRING"} <= set(_options("up"))
