"""What kubespray itself demands of a node, read from the checkout of the ref in use (so a
newer ref brings its own numbers): the memory asserts of its preinstall role, the
distributions its OS assert accepts and the versions its README lists, the kernel modules
its roles modprobe, and the defaults that decide what its run changes on the node."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML

from gourmetops.errors import GourmetopsError

if TYPE_CHECKING:
    from gourmetops.settings_schema import Settings

PREINSTALL = "roles/kubernetes/preinstall"
NODE = "roles/kubernetes/node"
DEFAULTS = "roles/kubespray-defaults/defaults/main/main.yml"
# Task files whose `community.general.modprobe` tasks load a module by literal name.
MODPROBE_TASKS = (f"{NODE}/tasks/main.yml", f"{PREINSTALL}/tasks/0080-system-configurations.yml")
# ansible_distribution for an os-release ID (what kubespray's OS assert compares).
ANSIBLE_DISTRIBUTION = {
    "ubuntu": "Ubuntu", "debian": "Debian", "centos": "CentOS", "rhel": "RedHat",
    "fedora": "Fedora", "rocky": "Rocky", "almalinux": "AlmaLinux", "ol": "OracleLinux",
    "amzn": "Amazon", "flatcar": "Flatcar", "opensuse-leap": "openSUSE Leap",
    "opensuse-tumbleweed": "openSUSE Tumbleweed", "openEuler": "openEuler",
}  # fmt: skip


class LimitsError(GourmetopsError):
    """The checkout does not hold what the checks read; the message names the file."""


@dataclass(frozen=True)
class Modules:
    """Modules kubespray loads: `all_of` must all load, one of `any_of` must (it tries them
    in order), `optional` are loaded only when found (modinfo first)."""

    all_of: tuple[str, ...]
    any_of: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.all_of + self.any_of + self.optional


@dataclass(frozen=True)
class Limits:
    ref: str
    master_memory_mb: int
    node_memory_mb: int
    distributions: tuple[str, ...]
    versions: dict[str, tuple[str, ...]]  # distribution -> versions or codenames, README
    modules: Modules
    swapoff: bool  # kubelet_fail_swap_on: its preinstall turns swap off
    writes_etc_hosts: bool  # populate_inventory_to_hosts_file
    sets_hostname: bool  # override_system_hostname (bootstrap-os)
    image_dir: str  # docker_daemon_graph (container_manager: docker)
    etcd_dir: str


def _yaml(checkout: Path, rel: str) -> dict[str, Any]:
    path = checkout / rel
    if not path.exists():
        raise LimitsError(f"{path} not found: is {checkout} a kubespray checkout?")
    return YAML(typ="safe", pure=True).load(path.read_text()) or {}


def _need(values: dict[str, Any], key: str, rel: str) -> Any:
    if key not in values:
        raise LimitsError(f"kubespray's {rel} no longer sets {key}: update gourmetops/check")
    return values[key]


def readme_versions(text: str) -> dict[str, tuple[str, ...]]:
    """`- **Debian** Bookworm, Bullseye` under "Supported Linux Distributions" -> versions."""
    section = text.split("## Supported Linux Distributions", 1)[-1].split("\n## ", 1)[0]
    versions = {}
    for name, rest in re.findall(r"^- \*\*([^*]+)\*\*[ \t]*(.*)$", section, re.MULTILINE):
        rest = re.sub(r"\(.*?\)|[\[\]]", "", rest)  # links and notes are not versions
        versions[name] = tuple(v.strip().lower() for v in rest.split(",") if re.search(r"\w", v))
    return versions


def _modprobed(checkout: Path) -> tuple[str, ...]:
    """Literal module names of modprobe tasks (templated names come from defaults)."""
    names = []
    for rel in MODPROBE_TASKS:
        text = (checkout / rel).read_text()
        names += re.findall(
            r"community\.general\.modprobe:\s*\n\s+name:\s*([a-z0-9_]+)\s*$", text, re.MULTILINE
        )
    return tuple(dict.fromkeys(names))


def read(checkout: Path, ref: str) -> Limits:
    pre = _yaml(checkout, f"{PREINSTALL}/defaults/main.yml")
    node = _yaml(checkout, f"{NODE}/defaults/main.yml")
    top = _yaml(checkout, DEFAULTS)
    boot = _yaml(checkout, "roles/bootstrap-os/defaults/main.yml")
    literal = _modprobed(checkout)
    ipvs = top.get("kube_proxy_mode", "ipvs") == "ipvs"
    modules = Modules(
        all_of=(tuple(_need(node, "kube_proxy_ipvs_modules", NODE)) if ipvs else ())
        # dummy: nodelocaldns (on by default); br_netfilter is loaded only when modinfo finds it
        + tuple(m for m in literal if m != "br_netfilter"),
        any_of=tuple(_need(node, "conntrack_modules", NODE)) if ipvs else (),
        optional=tuple(m for m in literal if m == "br_netfilter"),
    )
    readme = checkout / "README.md"
    return Limits(
        ref=ref,
        master_memory_mb=int(_need(pre, "minimal_master_memory_mb", PREINSTALL)),
        node_memory_mb=int(_need(pre, "minimal_node_memory_mb", PREINSTALL)),
        distributions=tuple(_need(pre, "supported_os_distributions", PREINSTALL)),
        versions=readme_versions(readme.read_text()) if readme.exists() else {},
        modules=modules,
        swapoff=bool(top.get("kubelet_fail_swap_on", True)),
        writes_etc_hosts=bool(pre.get("populate_inventory_to_hosts_file", False)),
        sets_hostname=bool(boot.get("override_system_hostname", False)),
        image_dir=str(top.get("docker_daemon_graph", "/var/lib/docker")),
        etcd_dir=str(top.get("etcd_data_dir", "/var/lib/etcd")),
    )


def for_settings(settings: Settings, fetch: bool = False) -> Limits:
    """The limits of the kubespray the target's settings name, from the controller's clone:
    the cached one when there is one (no fetch); else cloned as `fab kubespray` would when
    `fetch` (a run about to change the target), or refused in one line (`fab check`)."""
    from gourmetops.kubespray.checkout import controller_checkout, dry_run_checkout, local_checkout

    source, ref = settings.kubespray_source, settings.kubespray_ref
    if not fetch:
        return read(local_checkout(source, ref, "fab check"), ref)
    checkout = dry_run_checkout(source, ref) or controller_checkout(source, ref)
    return read(checkout, settings.kubespray_ref)
