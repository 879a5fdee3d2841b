"""The rows as a table a person reads top to bottom: node, check, ok/FAIL/skip and what was
found, with the fix under each failed row; then a one-line count."""

from __future__ import annotations

from collections.abc import Iterable

from gourmetops.check.rows import Row


def render(rows: Iterable[Row], title: str) -> str:
    rows = list(rows)
    node_w = max([len("node")] + [len(r.node) for r in rows])
    check_w = max([len("check")] + [len(r.check) for r in rows])
    lines = [title, f"  {'node':<{node_w}}  {'check':<{check_w}}  {'':<4}  found"]
    for r in rows:
        found = f"skipped: {r.skipped}" if r.skipped else r.found
        lines.append(f"  {r.node:<{node_w}}  {r.check:<{check_w}}  {r.status:<4}  {found}")
        if r.failed:
            by = f" (`fab up` runs {r.converged_by}, which does this)" if r.converged_by else ""
            lines.append(f"  {'':<{node_w}}  {'':<{check_w}}  {'':<4}  fix: {r.fix}{by}")
    lines.append(summary(rows))
    return "\n".join(lines)


def summary(rows: Iterable[Row]) -> str:
    rows = list(rows)
    failed = [r for r in rows if r.failed]
    skipped = [r for r in rows if r.skipped]
    ok = len(rows) - len(failed) - len(skipped)
    text = f"{ok} ok, {len(failed)} failed, {len(skipped)} skipped"
    if failed:
        text += ": " + ", ".join(f"{r.node} {r.check}" for r in failed)
    return text
