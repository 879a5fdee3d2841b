"""One row per node and check: what was found, whether it is ok, and the fix. Judging
code returns rows; only run.py and the tasks decide what a failed row means."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from gourmetops.check_names import WHEN
from gourmetops.errors import GourmetopsError, InputError


@dataclass(frozen=True)
class Row:
    node: str
    check: str
    found: str
    ok: bool
    fix: str = ""
    # The stage of `fab up` that puts this right (e.g. prepare removes old Docker): `fab up`
    # lets such a failure pass, `fab check` still reports it as failed.
    converged_by: str | None = None
    skipped: str = ""  # why this check was not judged (a --skip-check, or the target's list)

    @property
    def status(self) -> str:
        return "skip" if self.skipped else ("ok" if self.ok else "FAIL")

    @property
    def failed(self) -> bool:
        return not self.ok and not self.skipped


def not_reached(rows: Iterable[Row]) -> str:
    """ "; NODE not reached: CAUSE: FIX; try it yourself: ssh ..." for the first node ssh could
    not reach (the jump host first: the others go through it), or "" when all answered."""
    for row in rows:
        if row.check == "ssh" and row.failed:
            return f"; {row.node} not reached: {row.fix}"
    return ""


class CheckFailed(GourmetopsError):
    """Some check failed; the table (already printed) names the node, the check and the fix,
    so the message only counts them."""

    prefix = ""


def check_names(when: str, names: Iterable[str]) -> list[str]:
    """`--skip-check` values, each a known check of `when`, else refused with the list."""
    known = WHEN[when]
    names = list(names)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(
                f"--skip-check {name!r}: not a {when} check{hint} (one of {', '.join(known)})"
            )
    return names


def skip(rows: Iterable[Row], reasons: Mapping[str, str]) -> list[Row]:
    """Rows of the checks in `reasons` marked skipped with their reason, kept visible."""
    return [replace(r, skipped=reasons[r.check]) if r.check in reasons else r for r in rows]
