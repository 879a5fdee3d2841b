"""The lab's Debian rootfs (shared read-only by all nodes) and node1's Docker stand-in layer.

Both are built once from the host side (the nodes have no internet) and cached under .lab/;
a stamp holding the recipe lets a changed recipe rebuild them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from gourmetops.lab.system import run, say
from gourmetops.safe_write import write_text
from gourmetops.settings import check_target

SUITE = "bookworm"
MIRROR = os.environ.get("GOURMETOPS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# What a Chameleon Ubuntu node has and our stages need: sshd, sudo, python3 for pyinfra.
BASE_PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "sudo",
    "python3",
    "iproute2",
    "procps",
    "netbase",
    "ca-certificates",
    # kubespray's checkout and virtualenv on node1 (the tutorial apt-installs virtualenv)
    "git",
    "virtualenv",
]
# Installed after debootstrap with apt, as a user of the node would have. docker-registry
# is what the lab's registry:2 image is made of; podman stays as the daemonless path.
# python3-apt: Ansible's apt module needs it on the node (Ubuntu's cloud images ship it;
# minbase does not) -- the benchmark runs the same host state through Ansible.
EXTRA_PACKAGES = ["firewalld", "docker-registry", "podman", "runc", "siege", "python3-apt"]
USER = "cc"
# Docker as kubespray's container-engine role sets it up with container_manager: docker,
# plus crun: runc cannot create cgroups inside an nspawn node (read-only v1 controllers).
ENGINE_PACKAGES = ["docker.io", "crun"]
ENGINE_DEBS = "/var/cache/gourmetops/engine-debs"

# Run in the new rootfs after debootstrap, as a user of the node would have set it up.
CONFIGURE_SCRIPT = f"""
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends {" ".join(EXTRA_PACKAGES)}
# The Docker engine kubespray installs on a real node, as .debs the lab's cluster stage
# installs offline (docker.io conflicts with node1's old docker-ce, so it cannot be
# installed before `prepare` removed that).
apt-get clean
apt-get install -y -q --no-install-recommends --download-only {" ".join(ENGINE_PACKAGES)}
mkdir -p {ENGINE_DEBS}
mv /var/cache/apt/archives/*.deb {ENGINE_DEBS}/
apt-get clean
useradd --create-home --shell /bin/bash {USER}
echo '{USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{USER}
chmod 0440 /etc/sudoers.d/{USER}
# Each node boots with its own identity: host keys and machine-id are made per node.
rm -f /etc/ssh/ssh_host_* /etc/hostname
: > /etc/machine-id
# A container has no root device to remount and no use for a persistent journal; both
# units otherwise fail now and then and leave the boot "degraded".
ln -sf /dev/null /etc/systemd/system/systemd-remount-fs.service
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\\nStorage=volatile\\n' > /etc/systemd/journald.conf.d/lab.conf
# No internet inside the lab: a failing apt fetch is retried 3 times with back-off by
# default (~7 s of waiting per `apt update`), and a retry can never help here.
echo 'Acquire::Retries "0";' > /etc/apt/apt.conf.d/80lab-offline
# A fresh node runs no registry: the registry stage configures and starts it on node1.
systemctl disable docker-registry.service
# podman's auto-update (its service wanted by default.target, its timer Persistent=true:
# every lab boot is a node's first) and podman-restart ran at each boot, though no podman
# container here is set to update or restart; its API service too, which made podman's
# storage while the boot was already "finished". podman.socket still starts the API on
# demand, and the podman CLI needs neither.
systemctl disable podman-auto-update.timer podman-auto-update.service podman-restart.service \
  podman.service
# podman inside a container: no overlay on overlay, no systemd cgroup delegation, runc.
cat > /etc/containers/storage.conf <<'EOF'
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
cat > /etc/containers/containers.conf <<'EOF'
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
EOF
"""


def docker_standins() -> list[str]:
    """The old Docker packages `prepare` removes (group_data's docker_packages): the lab
    builds stand-ins of them so that removing them is real."""
    return list(check_target("lab").docker_packages)


DOCKER_LIST = (
    "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] "
    "https://download.docker.com/linux/debian bookworm stable\n"
)


def _recipe(kind: str) -> dict[str, object]:
    if kind == "rootfs":
        return {
            "suite": SUITE,
            "base": BASE_PACKAGES,
            "extra": EXTRA_PACKAGES,
            "configure": CONFIGURE_SCRIPT,
        }
    # Rebuilt with the rootfs: the layer's dpkg database is a copy-up of the rootfs's.
    return {
        "standins": docker_standins(),
        "list": DOCKER_LIST,
        "rootfs": _recipe("rootfs"),
    }


def _stamp(path: Path) -> Path:
    # Beside the tree, not in it: the tree's root is every node's /.
    return path.with_name(path.name + ".recipe.json")


def _is_current(path: Path, kind: str) -> bool:
    stamp = _stamp(path)
    return path.is_dir() and stamp.exists() and json.loads(stamp.read_text()) == _recipe(kind)


def recipe_stamp(path: Path) -> str:
    """The recipe a built tree was made from, as recorded beside it."""
    return _stamp(path).read_text()


def _mark_current(path: Path, kind: str) -> None:
    write_text(_stamp(path), json.dumps(_recipe(kind)), f"{kind}'s recipe stamp")


def _in_chroot(root: Path, script: str) -> None:
    # A private mount and PID namespace so package scripts cannot touch the host's /proc
    # or leave daemons behind.
    run(
        [
            "unshare",
            "--mount",
            "--pid",
            "--fork",
            f"--mount-proc={root}/proc",
            "chroot",
            str(root),
            "/bin/sh",
            "-euc",
            script,
        ]
    )


def ensure_rootfs(lab_dir: Path) -> Path:
    rootfs = lab_dir / "rootfs"
    if _is_current(rootfs, "rootfs"):
        return rootfs
    build = lab_dir / "rootfs.build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    say(f"building the Debian {SUITE} rootfs with debootstrap (about a minute)")
    run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            SUITE,
            str(build),
            MIRROR,
        ]
    )
    say(f"installing {', '.join(EXTRA_PACKAGES)} and user {USER} into the rootfs")
    _in_chroot(build, CONFIGURE_SCRIPT)
    shutil.rmtree(rootfs, ignore_errors=True)
    build.rename(rootfs)
    _mark_current(rootfs, "rootfs")
    return rootfs


def _build_standin(name: str, out_dir: Path) -> Path:
    pkg = Path(tempfile.mkdtemp(prefix=f"standin-{name}-"))
    try:
        (pkg / "DEBIAN").mkdir()
        (pkg / "DEBIAN" / "control").write_text(
            f"Package: {name}\nVersion: 5:27.0.0-standin\nArchitecture: all\n"
            "Maintainer: gourmetops lab <lab@localhost>\n"
            f"Description: lab stand-in for {name}\n"
            " Lets the lab remove the Docker packages a real node has from the tutorial.\n"
        )
        # dpkg drops a package that owns no file; give each one.
        doc = pkg / "usr" / "share" / "doc" / name
        doc.mkdir(parents=True)
        (doc / "STANDIN").write_text(f"{name} stand-in installed by the gourmetops lab\n")
        deb = out_dir / f"{name}.deb"
        run(["dpkg-deb", "--root-owner-group", "--build", str(pkg), str(deb)])
        return deb
    finally:
        shutil.rmtree(pkg, ignore_errors=True)


def ensure_docker_layer(lab_dir: Path, rootfs: Path) -> Path:
    """An overlay layer for node1 holding the installed stand-ins and docker.list."""
    layer = lab_dir / "layers" / "docker"
    if _is_current(layer, "docker"):
        return layer
    say("building node1's Docker stand-in layer")
    build = lab_dir / "layers" / "docker.build"
    work = lab_dir / "layers" / "docker.work"
    merged = lab_dir / "layers" / "docker.merged"
    for d in (build, work, merged):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    debs = [_build_standin(name, work) for name in docker_standins()]
    overlay_work = lab_dir / "layers" / "docker.ovl"
    shutil.rmtree(overlay_work, ignore_errors=True)
    overlay_work.mkdir()
    run(
        [
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={rootfs},upperdir={build},workdir={overlay_work}",
            str(merged),
        ]
    )
    try:
        (merged / "tmp" / "standins").mkdir()
        for deb in debs:
            shutil.copy(deb, merged / "tmp" / "standins" / deb.name)
        _in_chroot(merged, "dpkg -i /tmp/standins/*.deb && rm -r /tmp/standins")
        (merged / "etc" / "apt" / "sources.list.d" / "docker.list").write_text(DOCKER_LIST)
    finally:
        run(["umount", str(merged)])
    shutil.rmtree(layer, ignore_errors=True)
    build.rename(layer)
    _mark_current(layer, "docker")
    for d in (work, merged, overlay_work):
        shutil.rmtree(d, ignore_errors=True)
    return layer


def ensure_layers(lab_dir: Path) -> tuple[Path, Path]:
    """The cached rootfs and node1's Docker layer over it, each built when its recipe changed."""
    rootfs = ensure_rootfs(lab_dir)
    return rootfs, ensure_docker_layer(lab_dir, rootfs)
