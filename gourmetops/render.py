"""Every artifact the stages put in place, computed without connecting to any node."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gourmetops import PROJECT_ROOT
from gourmetops.app import manifests
from gourmetops.errors import InputError
from gourmetops.kubespray.checkout import local_checkout
from gourmetops.kubespray.overrides import kube_version, node_files
from gourmetops.registry.daemon_json import merge
from gourmetops.safe_write import ensure_dir, refuse_unsafe, write_text
from gourmetops.settings import host_settings
from gourmetops.targets import get_target

# Left in every directory `fab render` writes, so a rerun may write there again.
MARKER = ".gourmetops-render"


def artifacts(target_name: str, kubespray_source: str | None = None) -> dict[str, str]:
    """Relative output path -> content. `kubespray_source` replaces where the controller
    reads kubespray from (a mirror or bundle of the same ref, e.g. offline)."""
    target = get_target(target_name)
    data = host_settings(target_name)
    ref = data.kubespray_ref
    hint = f"; or give --kubespray-source a local mirror or bundle of {ref}"
    checkout = local_checkout(kubespray_source or data.kubespray_source, ref, "fab render", hint)
    out = {"ssh_config": target.ssh_config_text()}
    for path, text in node_files(target.cluster, checkout, data.kubespray_group_vars).items():
        out[f"kubespray/{path}"] = text
    out["docker/daemon.json"] = merge(None, data.registry) or ""
    objects = manifests.render(manifests.params_for(target, data))
    manifests.validate(objects, kube_version(checkout, data.kubespray_group_vars))
    for name, obj in objects.items():
        out[f"manifests/{name}.yaml"] = manifests.to_yaml(obj)
    return out


def _tracked_top_level() -> set[str]:
    """The project's top-level names that hold tracked sources (every visible one when the
    project is not a git checkout)."""
    proc = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "ls-files", "-z"], capture_output=True, text=True
    )
    if proc.returncode == 0 and proc.stdout:
        return {p.split("/", 1)[0] for p in proc.stdout.split("\0") if p}
    return {p.name for p in PROJECT_ROOT.iterdir() if not p.name.startswith(".")}


def check_out_dir(out_dir: Path, force: bool = False) -> Path:
    """Refuse an output directory that is a file, covers the project's sources, or holds
    files `fab render` did not write there (unless forced); returns it resolved."""
    out = out_dir.resolve()
    root = PROJECT_ROOT.resolve()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out_dir}: is a file, not a directory")
    if root.is_relative_to(out):
        raise InputError(f"--out {out_dir}: would write over the project itself ({root})")
    if out.is_relative_to(root):
        top = out.relative_to(root).parts[0]
        if top in _tracked_top_level():
            raise InputError(
                f"--out {out_dir}: is inside the project's tracked sources ({top}/); "
                "choose a directory outside them, e.g. .state/render or /tmp/plan"
            )
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not force:
        raise InputError(
            f"--out {out_dir}: is not empty and was not written by fab render; "
            "choose an empty or new directory, or add --force to write into it"
        )
    return out


def write(out_dir: Path, files: dict[str, str], force: bool = False) -> list[Path]:
    """Every artefact under `out_dir` and nowhere else: all paths are checked before the
    first file is written, and none is written through a link (safe_write)."""
    out = check_out_dir(out_dir, force)
    paths = {}
    for rel in files:
        path = Path(os.path.normpath(out / rel))
        inside = path.is_relative_to(out) and path.parent.resolve().is_relative_to(out)
        if Path(rel).is_absolute() or not inside or path == out:
            raise InputError(f"artefact {rel!r} would be written outside --out {out_dir}")
        refuse_unsafe(path, f"artefact {rel!r} at")
        paths[rel] = path
    ensure_dir(out, "--out")
    write_text(out / MARKER, "written by `fab render`; it may write here again\n", "--out")
    for rel, text in files.items():
        write_text(paths[rel], text, f"artefact {rel!r} at")
    return list(paths.values())
