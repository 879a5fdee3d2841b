"""The user's own key on the lab's real sshd: a key named only through GOURMETOPS_SSH_KEY
(the lab target's ssh_key) logs in to every node with all three clients (ssh for `fab
check`, pyinfra for `fab prepare --dry`, Fabric/paramiko in-process), through node1 for
node2/node3; a key the nodes do not accept gets the one-line "key refused" message, though
the lab's own key is authorised there too (IdentitiesOnly: only the named key is offered).
No ssh-agent is used (SSH_AUTH_SOCK emptied)."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gourmetops.context import connect
from gourmetops.targets import lab_target
from tests.labtools import Lab, check_row

COMMENT = "gourmetops-test-own-key"


def _keypair(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", COMMENT, "-f", str(path)],
        check=True,
    )
    return path


@pytest.fixture(scope="module")
def own_key(fresh_lab: Lab, tmp_path_factory) -> Iterator[Path]:
    """A key made for the test, authorised for cc on every node (with the lab's key, which
    stays authorised), removed again afterwards."""
    key = _keypair(tmp_path_factory.mktemp("own-key") / "id_own")
    pub = key.with_suffix(".pub").read_text().strip()
    for node in fresh_lab.nodes:
        fresh_lab.ssh(node, f"echo {shlex.quote(pub)} >> ~/.ssh/authorized_keys")
    yield key
    for node in fresh_lab.nodes:
        fresh_lab.ssh(node, f"sed -i '/{COMMENT}/d' ~/.ssh/authorized_keys")
    fresh_lab.target.write_ssh_config()  # the lab's own key again, for the next module


def test_a_key_named_only_through_ssh_key_logs_in_everywhere(
    fresh_lab: Lab, own_key: Path, monkeypatch
):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)  # paramiko here: no agent either
    env = {"GOURMETOPS_SSH_KEY": str(own_key), "SSH_AUTH_SOCK": ""}
    target = lab_target(env=env)
    assert target.ssh_key == own_key
    checked = fresh_lab.fab("check", env=env)
    for node in fresh_lab.nodes:
        row = check_row(checked.stdout, node, "ssh")
        assert "  ok  " in row.splitlines()[0], checked.stdout[-3000:]
    planned = fresh_lab.fab("prepare", "--dry", env=env)
    assert planned.returncode == 0, planned.stdout[-3000:]
    for node in fresh_lab.nodes:  # paramiko, node2/node3 through node1's connection
        ran = connect(target, node).run("hostname", hide=True, in_stream=False)
        assert ran.stdout.strip() == node


def test_a_key_the_nodes_refuse_is_one_line_naming_it(fresh_lab: Lab, own_key: Path, tmp_path):
    wrong = _keypair(tmp_path / "id_wrong")
    env = {"GOURMETOPS_SSH_KEY": str(wrong), "SSH_AUTH_SOCK": ""}
    said = (
        f"key refused: node1 refused the key {wrong} for cc: set ssh_key in chameleon.local.yaml "
        "(or GOURMETOPS_SSH_KEY) to the key it accepts; "
        "try it yourself: ssh -F .state/lab/ssh_config node1 true"
    )
    fabric = fresh_lab.fab("kubeconfig", env=env)  # Fabric: its first step runs on node1
    last = fabric.stdout.strip().splitlines()[-1]
    assert fabric.returncode == 1 and "Traceback" not in fabric.stdout, fabric.stdout[-3000:]
    assert last.startswith("error: node1: could not connect over SSH (") and last.endswith(
        f"): {said}"
    ), last
    pyinfra = fresh_lab.fab("prepare", env=env)
    last = pyinfra.stdout.strip().splitlines()[-1]
    assert pyinfra.returncode == 1 and "Traceback" not in pyinfra.stdout, pyinfra.stdout[-3000:]
    assert last.startswith("prepare failed on target lab: node1: could not connect over SSH (")
    assert f"): {said}; node2: unreachable through node1 (node1 could not be reached)" in last
    checked = fresh_lab.fab("check", env=env)
    assert checked.returncode == 1
    assert checked.stdout.strip().splitlines()[-1].endswith(f"; node1 not reached: {said}")
