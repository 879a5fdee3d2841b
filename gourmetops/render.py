"""Every artifact the stages put in place, computed without connecting to any node."""

from __future__ import annotations

from pathlib import Path

from gourmetops import manifests
from gourmetops.daemon_json import merge
from gourmetops.kubespray_plan import kube_version, node_files
from gourmetops.settings import host_data
from gourmetops.source import controller_checkout
from gourmetops.targets import get_target


def artifacts(target_name: str, kubespray_source: str | None = None) -> dict[str, str]:
    """Relative output path -> content. `kubespray_source` replaces where the controller
    reads kubespray from (a mirror or bundle of the same ref, e.g. offline)."""
    target = get_target(target_name)
    data = host_data(target_name)
    checkout = controller_checkout(kubespray_source or data.kubespray_source, data.kubespray_ref)
    out = {"ssh_config": target.ssh_config_text()}
    for path, text in node_files(target.cluster, checkout, data.kubespray_group_vars).items():
        out[f"kubespray/{path}"] = text
    out["docker/daemon.json"] = merge(None, data.registry) or ""
    objects = manifests.render(manifests.params_for(target_name))
    manifests.validate(objects, kube_version(checkout, data.kubespray_group_vars))
    for name, obj in objects.items():
        out[f"manifests/{name}.yaml"] = manifests.to_yaml(obj)
    return out


def write(out_dir: Path, files: dict[str, str]) -> list[Path]:
    written = []
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
