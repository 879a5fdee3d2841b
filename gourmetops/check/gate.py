"""`fab up`'s pre-checks: run them all, print the rows that need attention, and stop before
any change when a check fails that no stage of the run will put right (firewalld and node1's
old Docker are `prepare`'s to fix, so on fresh nodes they are reported and let through)."""

from __future__ import annotations

from collections.abc import Iterable

from gourmetops.check import table
from gourmetops.check.rows import CheckFailed, Row, not_reached
from gourmetops.check.run import check
from gourmetops.context import RunContext
from gourmetops.output import say


def blocking(rows: Iterable[Row], stages: Iterable[str]) -> list[Row]:
    later = set(stages)
    return [r for r in rows if r.failed and r.converged_by not in later]


def pre_checks(
    ctx: RunContext, skip_checks: Iterable[str], stages: Iterable[str], dry: bool = False
) -> list[Row]:
    """The table, and CheckFailed when a row fails that no stage in `stages` fixes. A dry
    run fetches nothing: without kubespray's checkout on the controller (its limits) it says
    so and checks nothing."""
    if dry:
        from gourmetops.kubespray.checkout import dry_run_checkout

        source, ref = ctx.settings.kubespray_source, ctx.settings.kubespray_ref
        if dry_run_checkout(source, ref) is None:
            say(
                f"dry run: the pre-checks read kubespray {ref}'s limits, and {source} is not "
                "on the controller yet; a real run clones it and checks first"
            )
            return []
    rows = check(ctx, "pre", skip_checks, fetch=True)
    stages = list(stages)
    title = f"pre-checks ({ctx.name}):"
    say(table.render(rows, title, only_attention=True, stages=stages))
    for name in sorted({r.check for r in rows if r.skipped == "--skip-check"}):
        say(f"note: check {name!r} skipped with --skip-check")
    stop = blocking(rows, stages)
    if stop:
        names = ", ".join(f"{r.node} {r.check}" for r in stop)
        raise CheckFailed(
            f"fab up stopped before any change: pre-check failed ({names}); fix it as the "
            f"table says, or override one check with --skip-check NAME{not_reached(stop)}"
        )
    return rows
