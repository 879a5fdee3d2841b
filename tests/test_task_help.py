"""`fab --list` shows the first line of each task's docstring (invoke's helpline): that line
must be a whole summary, not a sentence cut where the docstring wrapped."""

from __future__ import annotations

from invoke.util import helpline

from tasks import ns


def test_every_tasks_list_line_is_a_whole_sentence():
    cut = {}
    for name in ns.task_names:
        line = helpline(ns[name]) or ""
        whole = (
            line.endswith(".")
            and line.count("(") == line.count(")")
            and line.count("`") % 2 == 0
            and len(line) <= 92
        )
        if not whole:
            cut[name] = line
    assert not cut, cut
    assert len(ns.task_names) >= 29  # every namespace walked (lab.*, nodes.*)
