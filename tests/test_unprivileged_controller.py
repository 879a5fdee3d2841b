"""The Chameleon user's path from an account without root, against real sshd hosts: an
unprivileged user made on this machine gets its own copy of the repository, installs the
package into its own venv with pip (README's Chameleon install, main dependencies only), and
runs the *chameleon* target's code (`fab render`, `fab prepare --dry`, `fab prepare`,
`fab check`) against the running lab, exactly as on Chameleon: its own SSH key and
known_hosts (host keys accepted on first contact, then pinned), node2/node3 through node1
with ProxyJump, state under its copy's `.state/chameleon/`.

Standing in for Chameleon: node1's public end of the lab (10.254.0.2) is the floating IP, and
a cluster file with the lab's addresses is the cluster. Overridden for this test only, in
the copy's `group_data/chameleon.py`, because lab nodes are offline: `apt update` may fail
(`apt_update_offline_ok`), and kubespray is read from the lab's source (the offline mirror
when present) instead of GitHub (`kubespray_source`). pip reaches PyPI for the install.
"""

from __future__ import annotations

import pwd
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT
from tests.kubespray_source import KUBESPRAY
from tests.labtools import Lab, check_row

USER = "gourmetops-student"
FLOATING_IP = "10.254.0.2"  # node1's end of the lab's public link (cluster.yaml lab:)
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
    lab: Lab
    home: Path
    repo: Path

    def run(self, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
        """A command as the user, in its copy, with a login-like environment and nothing of
        root's: only what README tells a Chameleon user to set."""
        env = {
            "HOME": str(self.home),
            "USER": USER,
            "PATH": f"{self.home}/venv/bin:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "GOURMETOPS_FLOATING_IP": FLOATING_IP,
            "GOURMETOPS_NODE1_PUBLIC_ADDRESS": FLOATING_IP,
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


@pytest.fixture(scope="module")
def student(fresh_lab: Lab) -> Iterator[Student]:
    subprocess.run(["userdel", "-r", USER], capture_output=True)  # a leftover of a killed run
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
    home = Path(pwd.getpwnam(USER).pw_dir)
    repo = home / "gourmetops"
    try:
        _copy_of_the_repository(repo)
        (repo / "cluster-lab.yaml").write_text(CLUSTER)
        source = KUBESPRAY  # the mirror's bundle is copied in: root's paths may be closed
        if Path(source).is_file():
            source = str(shutil.copy(source, home / Path(source).name))
        (repo / "group_data" / "chameleon.py").write_text(OVERRIDES.format(source=source))
        subprocess.run(["chown", "-R", f"{USER}:", str(home)], check=True)
        s = Student(fresh_lab, home, repo)
        for step in (
            ("mkdir", "-m", "700", f"{home}/.ssh"),
            ("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{home}/.ssh/id_ed25519"),
            ("python3", "-m", "venv", f"{home}/venv"),
            (f"{home}/venv/bin/pip", "install", "-q", "-e", str(repo)),
        ):
            done = s.run(*step)
            assert done.returncode == 0, done.stdout[-3000:]
        key = (home / ".ssh" / "id_ed25519.pub").read_text()
        for node in fresh_lab.nodes:  # what Chameleon does with the user's key pair
            fresh_lab.ssh(node, "cat >> ~/.ssh/authorized_keys", input=key)
        yield s
    finally:
        subprocess.run(["userdel", "-r", USER], capture_output=True)


def test_installs_and_renders_without_root(student: Student):
    assert student.run("id", "-u").stdout.strip() != "0"
    listed = student.run("fab", "--list")
    assert listed.returncode == 0 and "prepare" in listed.stdout, listed.stdout[-2000:]
    rendered = student.run("fab", "render", "--target", "chameleon", "--out", "plan")
    assert rendered.returncode == 0, rendered.stdout[-3000:]
    hosts = (student.repo / "plan" / "kubespray/inventory/mycluster/hosts.yaml").read_text()
    assert "ansible_host: 10.254.1.12" in hosts
    ssh_config = (student.repo / "plan" / "ssh_config").read_text()
    assert f"HostName {FLOATING_IP}" in ssh_config and "ProxyJump node1" in ssh_config


def test_prepare_dry_then_for_real_then_check_as_the_user(student: Student):
    lab = student.lab
    dry = student.run("fab", "prepare", "--target", "chameleon", "--dry")
    assert dry.returncode == 0, dry.stdout[-3000:]
    assert lab.out("node2", "systemctl is-active firewalld || true") == "active"  # unchanged
    real = student.run("fab", "prepare", "--target", "chameleon")
    assert real.returncode == 0, real.stdout[-3000:]
    assert lab.out("node2", "systemctl is-active firewalld || true") == "inactive"
    # Host keys were accepted once into the user's own known_hosts, then pinned.
    known = (student.home / ".ssh" / "known_hosts").read_text()
    assert FLOATING_IP in known and "10.254.1.12" in known and "10.254.1.13" in known
    check = student.run("fab", "check", "--target", "chameleon")
    for node in lab.nodes:
        for name in ("ssh", "hostname", "resolve", "leftovers", "firewalld", "ports-reach"):
            line = check_row(check.stdout, node, name)
            assert " ok " in line.splitlines()[0], line
    # swap and modules are this host's kernel's (the lab's skips them; Chameleon's does not)
    state = student.repo / ".state" / "chameleon"
    owners = {p.stat().st_uid for p in [state, *state.rglob("*")]}
    assert owners == {pwd.getpwnam(USER).pw_uid}, owners
    assert not any(p.owner() == "root" for p in student.home.rglob("*") if not p.is_symlink())
