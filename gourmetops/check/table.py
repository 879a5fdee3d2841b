"""The rows as a table a person reads top to bottom: node, check, ok/FAIL/skip and what was
found, with the fix under each failed row; then a one-line count. In `fab up`, a failed row
that a stage of the same run puts right reads "todo", not FAIL: on fresh nodes firewalld
is on and old Docker is there, and that is what prepare is for.

    pre-checks (lab):
      node   check            found
      node1  firewalld  todo  firewalld active, enabled
                              fix: ... (this run's prepare stage does this)
      40 ok, 0 failed, 1 todo, 4 skipped: node1 firewalld (`fab check` shows every row)
"""

from __future__ import annotations

from collections.abc import Iterable

from gourmetops.check.rows import Row


def render(
    rows: Iterable[Row], title: str, only_attention: bool = False, stages: Iterable[str] = ()
) -> str:
    """Every row, or (`only_attention`, for `fab up`: at twelve nodes the table is 180 rows)
    only the failed ones and those skipped with --skip-check; the count covers them all.
    `stages`: the stages of this run, whose rows to put right read "todo"."""
    rows, later = list(rows), frozenset(stages)
    shown = [r for r in rows if r.failed or r.skipped == "--skip-check"] if only_attention else rows
    node_w = max([len("node")] + [len(r.node) for r in rows])
    check_w = max([len("check")] + [len(r.check) for r in rows])
    lines = [title, f"  {'node':<{node_w}}  {'check':<{check_w}}  {'':<4}  found"]
    for r in shown:
        found = f"skipped: {r.skipped}" if r.skipped else r.found
        todo = r.failed and r.converged_by in later
        status = "todo" if todo else r.status
        lines.append(f"  {r.node:<{node_w}}  {r.check:<{check_w}}  {status:<4}  {found}")
        if r.failed:
            by = f" (`fab up` runs {r.converged_by}, which does this)" if r.converged_by else ""
            by = f" (this run's {r.converged_by} stage does this)" if todo else by
            lines.append(f"  {'':<{node_w}}  {'':<{check_w}}  {'':<4}  fix: {r.fix}{by}")
    if only_attention and not shown:
        lines = [title]
    lines.append(("  " if only_attention else "") + summary(rows, later))
    if only_attention:
        lines[-1] += " (`fab check` shows every row)"
    return "\n".join(lines)


def summary(rows: Iterable[Row], later: frozenset[str] = frozenset()) -> str:
    """ "40 ok, 1 failed, 4 skipped: node1 firewalld" ("1 todo" beside them in `fab up`)."""
    rows = list(rows)
    failed = [r for r in rows if r.failed and r.converged_by not in later]
    todo = [r for r in rows if r.failed and r.converged_by in later]
    skipped = [r for r in rows if r.skipped]
    ok = len(rows) - len(failed) - len(todo) - len(skipped)
    text = f"{ok} ok, {len(failed)} failed, " + (f"{len(todo)} todo, " if later else "")
    text += f"{len(skipped)} skipped"
    if failed or todo:
        text += ": " + ", ".join(f"{r.node} {r.check}" for r in failed + todo)
    return text
