"""The user's own SSH key (`ssh_key` in chameleon.local.yaml, GOURMETOPS_SSH_KEY): written
into the generated ssh_config for every node, read back by the three clients that use that
file (OpenSSH's `ssh -G` prints its resolved options without connecting; Fabric's connection
and paramiko's SSHConfig, which pyinfra reads), and refused in one line when it cannot work.

No lab: `fab render` contacts no host, and the Chameleon target's floating IP is loopback.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from paramiko import SSHConfig

from gourmetops.context import connect
from gourmetops.targets import chameleon_target
from tests.cli import fab
from tests.kubespray_source import KUBESPRAY

NODES = ("node1", "node2", "node3")
CHAMELEON = {
    "GOURMETOPS_FLOATING_IP": "127.0.0.10",
    "GOURMETOPS_NODE1_PUBLIC_ADDRESS": "127.0.0.8",
    "GOURMETOPS_CHAMELEON_CONFIG": "/nonexistent/chameleon.local.yaml",
    "GOURMETOPS_SSH_KEY": None,
}


def _key(path: Path, mode: int = 0o600) -> Path:
    """A file standing in for a private key: ssh -G only names it, nothing reads it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a real key: ssh -G and render never read it\n")
    path.chmod(mode)
    return path


def _render(tmp_path: Path, env: dict[str, str | None]) -> Path:
    out = tmp_path / "plan"
    ran = fab(
        "render", "--out", str(out), "--target", "chameleon", "--kubespray-source", KUBESPRAY,
        env={**CHAMELEON, **env},
    )  # fmt: skip
    assert ran.code == 0, ran.out
    return out / "ssh_config"


def _resolved(config: Path, node: str) -> dict[str, list[str]]:
    """What OpenSSH makes of `config` for `node` (`ssh -G`: evaluated, never connects)."""
    out = subprocess.run(
        ["ssh", "-G", "-F", str(config), node], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        found.setdefault(key, []).append(value)
    return found


def test_ssh_key_from_chameleon_local_yaml_reaches_every_node(tmp_path):
    """`ssh_key: ~/...` in chameleon.local.yaml: '~' expanded, the same key for node1 and
    for node2/node3 (their ProxyJump through node1 reads the same file)."""
    home = tmp_path / "home"
    key = _key(home / ".ssh" / "id_rsa_chameleon")
    config = tmp_path / "chameleon.local.yaml"
    config.write_text("floating_ip: 127.0.0.10\nssh_key: ~/.ssh/id_rsa_chameleon\n")
    ssh_config = _render(tmp_path, {"HOME": str(home), "GOURMETOPS_CHAMELEON_CONFIG": str(config)})
    text = ssh_config.read_text()
    assert f"    IdentityFile {key}\n    IdentitiesOnly yes\n" in text
    paramiko_view = SSHConfig.from_path(str(ssh_config))
    for node in NODES:
        resolved = _resolved(ssh_config, node)
        assert resolved["identityfile"] == [str(key)], (node, resolved.get("identityfile"))
        assert resolved["identitiesonly"] == ["yes"]
        assert paramiko_view.lookup(node)["identityfile"] == [str(key)]
    assert _resolved(ssh_config, "node2")["proxyjump"] == ["node1"]


def test_env_key_with_a_space_is_quoted_and_wins_over_the_file(tmp_path):
    key = _key(tmp_path / "my keys" / "chameleon key")
    other = _key(tmp_path / "other")
    config = tmp_path / "chameleon.local.yaml"
    config.write_text(f"floating_ip: 127.0.0.10\nssh_key: {other}\n")
    ssh_config = _render(
        tmp_path, {"GOURMETOPS_SSH_KEY": str(key), "GOURMETOPS_CHAMELEON_CONFIG": str(config)}
    )
    assert f'    IdentityFile "{key}"\n' in ssh_config.read_text()
    for node in NODES:
        assert _resolved(ssh_config, node)["identityfile"] == [str(key)]
        assert SSHConfig.from_path(str(ssh_config)).lookup(node)["identityfile"] == [str(key)]


def test_fabric_hands_the_key_to_paramiko_for_the_node_and_its_jump_host(tmp_path):
    """Fabric turns the ssh_config's IdentityFile into paramiko's key_filename, for node2
    and for the node1 connection it jumps through; paramiko tries no other ~/.ssh key."""
    key = _key(tmp_path / "id_chameleon")
    target = chameleon_target(
        env={"GOURMETOPS_FLOATING_IP": "127.0.0.10", "GOURMETOPS_SSH_KEY": str(key)}
    )
    node2 = connect(target, "node2")
    for conn in (connect(target, "node1"), node2, node2.gateway):
        assert conn.connect_kwargs["key_filename"] == [str(key)]
        assert conn.connect_kwargs["look_for_keys"] is False
    assert node2.gateway.host == "127.0.0.10"


def _refused(tmp_path: Path, env: dict[str, str | None]) -> str:
    ran = fab("render", "--out", str(tmp_path / "plan"), "--target", "chameleon",
              env={**CHAMELEON, **env})  # fmt: skip
    assert ran.code == 1, ran.out
    assert "Traceback" not in ran.out and len(ran.out.strip().splitlines()) == 1, ran.out
    assert not (tmp_path / "plan").exists()
    return ran.out.strip()


FIX = "give the path of the private key you log in to the nodes with (e.g. ~/.ssh/id_rsa)"
VAR = "error: environment variable GOURMETOPS_SSH_KEY"


def test_missing_key_file_is_named(tmp_path):
    missing = tmp_path / "id_nope"
    assert _refused(tmp_path, {"GOURMETOPS_SSH_KEY": str(missing)}) == (
        f"{VAR}='{missing}': {missing}: No such file or directory; {FIX}"
    )


def test_key_that_is_a_directory_is_refused(tmp_path):
    assert _refused(tmp_path, {"GOURMETOPS_SSH_KEY": str(tmp_path)}) == (
        f"{VAR}='{tmp_path}': {tmp_path} is not a regular file; {FIX}"
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("/tmp/k\nProxyCommand touch /tmp/pwned", "holds a newline or control character, "
         "which would break ssh_config"),
        ('/tmp/k" ProxyCommand x', "holds '\"' or '%', which ssh_config cannot carry in a "
         "path; rename the key"),
        ("/tmp/%d/key", "holds '\"' or '%', which ssh_config cannot carry in a path; "
         "rename the key"),
        ("/" + "k" * 1100, "is longer than 1024 characters"),
    ],
    ids=["newline-directive", "quote", "percent-token", "very-long"],
)  # fmt: skip
def test_a_key_path_that_would_break_ssh_config_is_refused(tmp_path, value, why):
    shown = repr(value if len(value) <= 120 else value[:120] + "...")
    assert _refused(tmp_path, {"GOURMETOPS_SSH_KEY": value}) == f"{VAR}={shown} {why}; {FIX}"


def test_key_readable_by_others_is_refused_with_the_chmod(tmp_path):
    """OpenSSH would ignore it ("UNPROTECTED PRIVATE KEY FILE") and fall back to other keys."""
    key = _key(tmp_path / "id_downloaded", 0o644)
    assert _refused(tmp_path, {"GOURMETOPS_SSH_KEY": str(key)}) == (
        f"{VAR}='{key}': {key} is readable by others (0644), so ssh will not use it: "
        f"chmod 600 {key}"
    )


def test_ssh_key_in_the_file_is_named_by_file_and_key(tmp_path):
    config = tmp_path / "chameleon.local.yaml"
    config.write_text("floating_ip: 127.0.0.10\nssh_key: keys/id_gone\n")
    expected = tmp_path / "keys" / "id_gone"  # relative to the file, not the cwd
    assert _refused(tmp_path, {"GOURMETOPS_CHAMELEON_CONFIG": str(config)}) == (
        f"error: {config}: ssh_key='keys/id_gone': {expected}: No such file or directory; {FIX}"
    )
    config.write_text("floating_ip: 127.0.0.10\nssh_key: 22\n")
    assert _refused(tmp_path, {"GOURMETOPS_CHAMELEON_CONFIG": str(config)}).startswith(
        f"error: {config}: ssh_key: must be a string, not 22"
    )
