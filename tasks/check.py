"""Read-only looks at every node at once: `fab check` (pre-install or post-install checks,
one row per node and check, with the fix) and `fab logs` (a support bundle, secrets out)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from gourmetops import flags
from gourmetops.errors import GourmetopsError
from gourmetops.runlock import run_lock
from tasks.common import TARGET_HELP, gtask

if TYPE_CHECKING:
    from gourmetops.context import RunContext

# The lab and check modules are imported in the tasks that use them, not here: they pull in
# pyinfra and pydantic, which `fab --list` and `--help` never use.


def _context(target: str) -> RunContext:
    """The run's context; a stopped lab is said plainly instead of three failed ssh rows."""
    from gourmetops import lab as labmod
    from gourmetops.context import RunContext

    ctx = RunContext(target)
    if target == "lab" and labmod.status(ctx.target).state != "running":
        raise GourmetopsError("the lab is not running: start it with `fab lab.up`")
    return ctx


@gtask(
    help={
        "target": TARGET_HELP["target"],
        "when": "pre (default: before install) or post (after `fab up`)",
        "skip-check": "report this check as skipped (repeatable)",
    },
    iterable=["skip_check"],
)
def check(c, target=None, when=None, skip_check=None):
    """Check every node in parallel (read-only); exit 1 naming the node, check and fix."""
    from gourmetops.check import table
    from gourmetops.check.rows import CheckFailed, check_names, not_reached
    from gourmetops.check.run import check as run_check

    when = flags.choice("when", when, ("pre", "post"), "pre")
    check_names(when, skip_check or ())  # before any node is contacted
    ctx = _context(target)
    started = time.monotonic()
    if when == "pre":
        # The reachability round binds, for a moment, the ports kubespray is about to use:
        # never during a changing run of the same target (the lock refuses, naming it).
        with run_lock(ctx.state_dir, target, "check"):
            rows = run_check(ctx, when, skip_check or ())
    else:
        rows = run_check(ctx, when, skip_check or ())
    took = time.monotonic() - started
    print(table.render(rows, f"{when}-checks ({target}, {took:.1f} s):"), flush=True)
    failed = [r for r in rows if r.failed]
    if failed:
        raise CheckFailed(f"{len(failed)} check(s) failed on target {target}{not_reached(failed)}")


@gtask(
    help={
        "target": TARGET_HELP["target"],
        "out": "the tar.gz to write (default .state/<target>/support-<time>.tar.gz)",
        "force": "replace --out when it already exists",
    }
)
def logs(c, target=None, out=None, force=False):
    """A support bundle from every node (journals, daemon.json, run logs), secrets removed."""
    from gourmetops.check import bundle

    if out:
        bundle.check_out(Path(out), force)  # before the lab's state or any node is asked
    ctx = _context(target)
    path = bundle.write(ctx, Path(out) if out else None, force)
    print(path)
