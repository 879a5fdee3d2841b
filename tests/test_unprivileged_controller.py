"""The Chameleon user's path from an account without root, against real sshd hosts: an
unprivileged user made on this machine gets its own copy of the repository, installs the
package into its own venv with pip (README's Chameleon install, main dependencies only), and
runs the *chameleon* target's code (`fab render`, `fab prepare --dry`, `fab prepare`,
`fab check`) against the running lab, exactly as on Chameleon: its own SSH key and
known_hosts (host keys accepted on first contact, then pinned), node2/node3 through node1
with ProxyJump, state under its copy's `.state/chameleon/`.

Standing in for Chameleon: node1's public end of the lab (10.254.0.2 in cluster.yaml) is the
floating IP, and a cluster file with the lab's addresses is the cluster. Overridden for this
test only, in the copy's `group_data/chameleon.py`, because lab nodes are offline: `apt
update` may fail (`apt_update_offline_ok`), and kubespray is read from the lab's source (the
offline mirror when present) instead of GitHub (`kubespray_source`). pip reaches PyPI for the
install.
"""

from __future__ import annotations

import pwd
from collections.abc import Iterator
from concurrent.futures import Future

import pytest

from tests.labtools import Lab, check_row
from tests.student import FLOATING_IP, USER, Student, install, remove


@pytest.fixture(scope="module")
def student(fresh_lab: Lab, student_installing: Future | None) -> Iterator[Student]:
    """The user made and installed (started with the session, see conftest), its key then
    authorised on the nodes as Chameleon does with a user's key pair."""
    try:
        s = student_installing.result() if student_installing else install()
        s.lab = fresh_lab
        key = (s.home / ".ssh" / "id_ed25519.pub").read_text()
        for node in fresh_lab.nodes:
            fresh_lab.ssh(node, "cat >> ~/.ssh/authorized_keys", input=key)
        yield s
    finally:
        remove()


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
