"""The whole target at once: every stage in order (`fab up`), or every file the stages
would write, rendered locally without contacting a host (`fab render`)."""

from __future__ import annotations

from pathlib import Path

from fabric import task

from gourmetops import flags
from gourmetops.stages import STAGES, run_all
from tasks.common import TARGET_HELP, changing, clean_errors

# The lab and render modules are imported in the tasks that use them, not here: they pull in
# pyinfra, pydantic and the kubernetes client, which `fab --list` and `--help` never use.


@task(
    help={**TARGET_HELP, "skip-check": "let this pre-check's failure pass, said so (repeatable)"},
    iterable=["skip_check"],
)
@clean_errors
def up(c, target="lab", dry=False, skip_check=None):
    """Pre-checks, then every stage in order; for the lab, bring the lab up first."""
    from gourmetops import lab as labmod
    from gourmetops.check.gate import pre_checks

    if target == "lab" and dry and labmod.status().state != "running":
        print("lab is not running: a real run would start it; dry run stops here")
        return
    with changing(target, "up", dry) as ctx:
        if target == "lab" and not dry:
            labmod.up()
        # Read-only, and before any stage: a failure no stage fixes stops here (dry too).
        print("==> pre-checks", flush=True)
        pre_checks(ctx, skip_check or (), [s.name for s in STAGES if s.applies(ctx)])
        run_all(ctx, dry)


@task(
    help={
        "out": "directory to write into: new, empty, or written by render before",
        "force": "write into a non-empty directory render did not make",
        "target": TARGET_HELP["target"],
        "kubespray-source": "read kubespray's sample from this repo or bundle (same ref) instead",
    }
)
@clean_errors
def render(c, out, target="lab", kubespray_source=None, force=False):
    """Write every file the stages would put in place, contacting no host (like a plan)."""
    from gourmetops import render as rendermod

    kubespray_source = flags.source("kubespray_source", kubespray_source)
    rendermod.check_out_dir(Path(out), force)  # before kubespray is read or cloned
    written = rendermod.write(Path(out), rendermod.artifacts(target, kubespray_source), force)
    for path in written:
        print(path)
