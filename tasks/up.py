"""The whole target at once: every stage in order (`fab up`), or every file the stages
would write, rendered locally without contacting a host (`fab render`)."""

from __future__ import annotations

from pathlib import Path

from gourmetops import flags
from tasks.common import TARGET_HELP, gtask, retries_flag

# The stages' modules are imported in the tasks that run them, not here: they pull in
# pyinfra, pydantic and the kubernetes client, which `fab --list` and `--help` never use.


@gtask(
    help={
        **TARGET_HELP,
        "skip-check": "let this pre-check's failure pass, said so (repeatable)",
        "from": "start at this stage (prepare, kubespray, cluster, kubeconfig, registry, ...)",
        "to": "stop after this stage",
        "redo": "run this stage even when unchanged since its last run: cluster",
        "retries": "the cluster stage's reruns while hosts fail (default: cluster_retries)",
    },
    iterable=["skip_check", "redo"],
)
def up(c, target=None, dry=False, skip_check=None, from_=None, to=None, redo=None, retries=None):
    """Pre-checks, then every stage in order (or a --from/--to slice of them).

    The cluster stage is skipped when nothing it reads changed since its last run. On the
    lab target a real run starts the lab first (a dry run stops if it is not running)."""
    from gourmetops.stages import run_on, select

    stages = select(from_, to)
    retries = retries_flag(retries, None)
    run_on(target, "up", dry, stages, skip_check or (), redo or (), retries)


@gtask(
    help={
        "out": "directory to write into: new, empty, or written by render before",
        "force": "write into a non-empty directory render did not make",
        "target": TARGET_HELP["target"],
        "kubespray-source": "read kubespray's sample from this repo or bundle (same ref) instead",
    }
)
def render(c, out, target=None, kubespray_source=None, force=False):
    """Write every file the stages would put in place, contacting no host (like a plan)."""
    from gourmetops import render as rendermod

    kubespray_source = flags.source("kubespray_source", kubespray_source)
    rendermod.check_out_dir(Path(out), force)  # before kubespray is read or cloned
    written = rendermod.write(Path(out), rendermod.artifacts(target, kubespray_source), force)
    for path in written:
        print(path)
