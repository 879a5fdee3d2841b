"""`fab up`'s pre-checks: run them all, print the table, and stop before any change when a
check fails that no stage of the run will put right (firewalld and node1's old Docker are
`prepare`'s to fix, so on fresh nodes they are reported and let through)."""

from __future__ import annotations

from collections.abc import Iterable

from gourmetops.check import table
from gourmetops.check.rows import CheckFailed, Row
from gourmetops.check.run import check
from gourmetops.context import RunContext


def blocking(rows: Iterable[Row], stages: Iterable[str]) -> list[Row]:
    later = set(stages)
    return [r for r in rows if r.failed and r.converged_by not in later]


def pre_checks(ctx: RunContext, skip_checks: Iterable[str], stages: Iterable[str]) -> list[Row]:
    rows = check(ctx, "pre", skip_checks)
    print(table.render(rows, f"pre-checks ({ctx.name}):"), flush=True)
    for name in sorted({r.check for r in rows if r.skipped == "--skip-check"}):
        print(f"note: check {name!r} skipped with --skip-check", flush=True)
    stop = blocking(rows, stages)
    if stop:
        names = ", ".join(f"{r.node} {r.check}" for r in stop)
        raise CheckFailed(
            f"fab up stopped before any change: pre-check failed ({names}); fix it as the "
            "table says, or override one check with --skip-check NAME"
        )
    return rows
