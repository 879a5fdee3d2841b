"""A run that changes a target, as `fab` and the notebook's API make it: the context built
first (a bad cluster.yaml or floating IP stops there), one such run per target at a time,
and its whole output kept in .state/<target>/logs/ while still shown where it runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gourmetops.output import to_file
from gourmetops.runlock import run_lock
from gourmetops.safe_write import ensure_dir

if TYPE_CHECKING:
    from gourmetops.context import RunContext


@contextmanager
def _logged(logs: Path, task: str) -> Iterator[None]:
    """Everything the run says (gourmetops.output) also goes to
    .state/<target>/logs/<task>-<time>.log."""
    ensure_dir(logs, "run logs directory")
    with to_file(logs / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}.log", "run log"):
        yield


@contextmanager
def changing(target: str, task: str, dry: bool) -> Iterator[RunContext]:
    """The run's context for a task that changes its target (unless `dry`): built first (a
    bad cluster.yaml or floating IP stops here), then one such run per target at a time
    (the second is refused, naming the first), its whole output kept in the logs."""
    from gourmetops.context import RunContext  # local: slow (pydantic, pyinfra), run time only

    ctx = RunContext(target)
    if dry:
        yield ctx
        return
    with run_lock(ctx.state_dir, target, task), _logged(ctx.state_dir / "logs", task):
        yield ctx
