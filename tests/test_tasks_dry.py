"""README's promise about --dry, checked on the tasks themselves: every task that changes
something on the nodes takes --dry; the ones without it are exactly those README names."""

from __future__ import annotations

import inspect

import tasks
from gourmetops import PROJECT_ROOT

# README: "Without --dry: catalog and status (they only read), check and logs (they only read
# the nodes), report and render (they write local files only) and the lab.* tasks".
WITHOUT_DRY = {"catalog", "status", "check", "logs", "report", "render"}


def test_every_task_but_the_read_only_ones_has_dry():
    names = set(tasks.ns.task_names) - {n for n in tasks.ns.task_names if n.startswith("lab.")}
    without = {n for n in names if "dry" not in inspect.signature(tasks.ns[n].body).parameters}
    assert without == WITHOUT_DRY
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "Without `--dry`: `catalog` and `status`" in readme
    for name in names - WITHOUT_DRY:
        assert f"`{name}`" in readme or f"`fab {name}" in readme, name
