"""The unprivileged Chameleon user of tests/test_unprivileged_controller.py: made on this
machine with its own copy of the repository, its own key and its own venv, into which it
pip-installs the package from PyPI (README's Chameleon install, main dependencies only).
The install needs no lab, so conftest starts it with the session, beside the lab tests."""

from __future__ import annotations

import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gourmetops import PROJECT_ROOT
from gourmetops.targets import lab_target
from tests.kubespray_source import KUBESPRAY
from tests.labtools import Lab

USER = "gourmetops-student"
# node1's end of this lab's public link (cluster.yaml lab:; the second lab-tier shard's lab
# has a public network of its own, tests/lab_shards.py)
FLOATING_IP = str(lab_target().public_address)
NODE1_OWN_ADDRESS = "10.254.1.11"  # node1 on the lab's private network
CLUSTER = """user: cc
private_network: 10.254.1.0/24
nodes:
  - {name: node1, address: 10.254.1.11, jump: true, roles: [kube_control_plane, kube_node, etcd]}
  - {name: node2, address: 10.254.1.12, roles: [kube_control_plane, kube_node, etcd]}
  - {name: node3, address: 10.254.1.13, roles: [kube_node, etcd]}
"""
OVERRIDES = """# Test-only (tests/test_unprivileged_controller.py): the lab's nodes are offline.
apt_update_offline_ok = True
kubespray_source = {source!r}
"""


@dataclass
class Student:
    home: Path
    repo: Path
    lab: Lab | None = None

    def run(self, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
        """A command as the user, in its copy, with a login-like environment and nothing of
        root's: only what README tells a Chameleon user to set."""
        env = {
            "HOME": str(self.home),
            "USER": USER,
            "PATH": f"{self.home}/venv/bin:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "GOURMETOPS_FLOATING_IP": FLOATING_IP,
            # an address node1 has that is not the floating IP (refused as the Service's
            # externalIP: on Chameleon the floating IP is NAT'd); the lab has no sharednet1
            "GOURMETOPS_NODE1_PUBLIC_ADDRESS": NODE1_OWN_ADDRESS,
            "GOURMETOPS_CLUSTER": str(self.repo / "cluster-lab.yaml"),
        }
        return subprocess.run(
            ["runuser", "-u", USER, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
             *args],
            cwd=self.repo, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=timeout,
        )  # fmt: skip


def _copy_of_the_repository(dest: Path) -> None:
    """The files of this checkout (tracked and new, as a clone would have them)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        src = PROJECT_ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def install() -> Student:
    """The user, its copy of the repository, its key pair and its venv with the package."""
    remove()  # a leftover of a killed run
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
    home = Path(pwd.getpwnam(USER).pw_dir)
    repo = home / "gourmetops"
    _copy_of_the_repository(repo)
    (repo / "cluster-lab.yaml").write_text(CLUSTER)
    source = KUBESPRAY  # the mirror's bundle is copied in: root's paths may be closed
    if Path(source).is_file():
        source = str(shutil.copy(source, home / Path(source).name))
    (repo / "group_data" / "chameleon.py").write_text(OVERRIDES.format(source=source))
    subprocess.run(["chown", "-R", f"{USER}:", str(home)], check=True)
    s = Student(home, repo)
    for step in (
        ("mkdir", "-m", "700", f"{home}/.ssh"),
        ("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{home}/.ssh/id_ed25519"),
        ("python3", "-m", "venv", f"{home}/venv"),
        (f"{home}/venv/bin/pip", "install", "-q", "-e", str(repo)),
    ):
        done = s.run(*step)
        assert done.returncode == 0, done.stdout[-3000:]
    return s


def remove() -> None:
    subprocess.run(["userdel", "-r", USER], capture_output=True)
