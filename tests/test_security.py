"""Security properties: host keys are always checked (in our code, the config we generate
and the ansible we run), a changed host key stops the run, node1's private key stays
private and on node1, the registry listens privately unless asked, and secrets stay out
of logs and rendered files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT, STATE_DIR
from gourmetops.kubespray.playbook import PlaybookRun
from gourmetops.render import artifacts
from gourmetops.targets import LAB_DIR, chameleon_target, lab_target
from tests.labtools import Lab, secret_holders

INSECURE = [
    re.compile(r"StrictHostKeyChecking\s*[= ]\s*no\b", re.I),
    re.compile(r"UserKnownHostsFile\s*[= ]\s*/dev/null", re.I),
    re.compile(r"host_key_checking\s*[=:]\s*false", re.I),
]
SCANNED = ["gourmetops", "deploys", "inventories", "group_data", "tasks", "fabfile.py"]


def insecure_lines(text: str, where: str) -> list[str]:
    return [
        f"{where}:{n}: {line.strip()}"
        for n, line in enumerate(text.splitlines(), 1)
        if any(p.search(line) for p in INSECURE)
    ]


def test_no_host_key_checking_turned_off_in_code_or_generated_config():
    """Our code, the ssh_config of both targets, every file `fab render` writes and the
    ansible-playbook command line. benchmarks/ is left out on purpose: it replays the
    tutorial's hand-typed commands verbatim (StrictHostKeyChecking=no included) as the
    reference our stages are measured against; it is not part of what the tool runs."""
    found = []
    for entry in SCANNED:
        path = PROJECT_ROOT / entry
        assert path.exists(), path  # a renamed place must not drop out of the scan
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            found += insecure_lines(file.read_text(), str(file.relative_to(PROJECT_ROOT)))
    chameleon = chameleon_target(env={"GOURMETOPS_FLOATING_IP": "127.0.0.10"})
    for target in (lab_target(), chameleon):
        found += insecure_lines(target.ssh_config_text(), f"ssh_config ({target.name})")
    for rel, text in artifacts("lab").items():
        found += insecure_lines(text, f"fab render: {rel}")
    command = PlaybookRun("kubespray", "myenv", "inventory/mycluster/hosts.yaml", "x.yml").command()
    found += insecure_lines(command, "ansible-playbook command")
    assert found == []
    # kubespray's own ansible.cfg turns checking off; the command turns it back on.
    assert "ANSIBLE_HOST_KEY_CHECKING=True" in command
    assert "ANSIBLE_SSH_ARGS=" in command


def test_ssh_config_checks_host_keys_for_both_targets():
    lab = lab_target().ssh_config_text()
    assert "StrictHostKeyChecking yes" in lab
    assert f"UserKnownHostsFile {LAB_DIR / 'known_hosts'}" in lab
    chameleon = chameleon_target(env={"GOURMETOPS_FLOATING_IP": "127.0.0.10"})
    assert "StrictHostKeyChecking accept-new" in chameleon.ssh_config_text()


# --- on the lab ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prepared(docker_lab: Lab) -> Lab:
    """Prepared nodes with dockerd, as the cluster stage leaves them (the session's
    Docker-ready snapshot, restored)."""
    return docker_lab


@pytest.fixture
def node3_new_host_keys(prepared: Lab):
    """node3's sshd with freshly generated host keys (what a MITM or a rebuild looks like);
    the original keys put back afterwards."""
    prepared.console(
        "node3",
        "mkdir -p /root/hostkeys-backup && cp -a /etc/ssh/ssh_host_* /root/hostkeys-backup/ "
        "&& rm /etc/ssh/ssh_host_* && ssh-keygen -A && systemctl restart ssh.service",
    )
    yield prepared
    prepared.console(
        "node3",
        "cp -a /root/hostkeys-backup/ssh_host_* /etc/ssh/ && rm -r /root/hostkeys-backup "
        "&& systemctl restart ssh.service",
    )


def test_changed_host_key_stops_the_run_naming_the_node(node3_new_host_keys: Lab):
    lab = node3_new_host_keys
    node3_firewalld = lab.console("node3", "systemctl is-enabled firewalld || true")
    proc = lab.fab("prepare")
    assert proc.returncode == 1
    known_hosts = LAB_DIR / "known_hosts"
    assert proc.stdout.strip().splitlines()[-1] == (
        "prepare failed on target lab: node3: SSH host key changed: it is not the key pinned "
        f"in {known_hosts}, so the run stopped (a man-in-the-middle looks the same). If the "
        f"node was rebuilt, remove the old key and rerun: ssh-keygen -f {known_hosts} "
        "-R 10.254.1.13"
    )
    # ssh's own warning is kept whole in the run's log (the console has the line above)
    logs = (lab.target.state_dir / "logs").glob("prepare-*.log")
    log = max(logs, key=lambda p: p.stat().st_mtime).read_text()
    assert "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!" in log
    # Nothing was sent to the impostor.
    assert lab.console("node3", "systemctl is-enabled firewalld || true") == node3_firewalld


def test_private_keys_are_0600_and_never_leave_node1(prepared: Lab):
    lab = prepared
    assert lab.out("node1", "stat -c '%a %U' ~/.ssh/id_rsa") == "600 cc"
    assert oct((LAB_DIR / "id_ed25519").stat().st_mode & 0o777) == "0o600"
    # One line from the middle of the key: no file on node2/node3 or on the controller
    # holds it, under any name.
    secret = lab.out("node1", "sed -n 5p ~/.ssh/id_rsa")
    assert len(secret) > 40
    for node in ("node2", "node3"):
        found = lab.console(
            node, f"grep -rlF -- '{secret}' /home /root /etc /tmp /var /srv 2>/dev/null || true"
        )
        assert found.strip() == "", (node, found)
    for directory in (STATE_DIR, LAB_DIR, PROJECT_ROOT / "tests"):
        for file in directory.rglob("*"):
            if file.is_file() and file.stat().st_size < 50_000_000:
                assert secret.encode() not in file.read_bytes(), file


def test_registry_private_by_default_all_interfaces_only_when_asked_and_no_secret_logged(
    prepared: Lab, tmp_path: Path
):
    import bcrypt

    lab = prepared
    password = "gourmetops-s3cret-9f1"
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"gourmet:{hashed}\n")

    def listening() -> list[str]:
        return lab.out("node1", "ss -ltnH 'sport = :5000' | awk '{print $4}'").split()

    # The password is given to every command, as a user with auth on would export it: a
    # leak anywhere in their output, the render files or .state would show.
    given = {"GOURMETOPS_REGISTRY_PASSWORD": password, "GOURMETOPS_REGISTRY_USER": "gourmet"}
    with_password = {**os.environ, **given}
    default = lab.fab("registry", env=given)
    assert default.returncode == 0, default.stdout[-3000:]
    assert listening() == ["10.254.1.11:5000"]

    asked = lab.pyinfra(
        "registry",
        "--data",
        "registry_bind=all",
        "--data",
        f"registry_htpasswd={htpasswd}",
        env=with_password,
    )
    assert asked.returncode == 0, asked.stdout[-3000:]
    # every interface: docker-proxy listens on the IPv4 and the IPv6 wildcard
    wildcards = {"*:5000", "[::]:5000", "0.0.0.0:5000"}
    assert listening() and set(listening()) <= wildcards, listening()
    dry = lab.pyinfra(
        "registry", "--data", f"registry_htpasswd={htpasswd}", dry=True, env=with_password
    )
    assert dry.returncode == 0, dry.stdout[-3000:]

    back = lab.fab("registry", env=given)
    assert back.returncode == 0, back.stdout[-3000:]
    assert listening() == ["10.254.1.11:5000"]

    render_dir = tmp_path / "render"
    rendered = lab.fab(
        "render",
        "--out",
        str(render_dir),
        env={**given, "GOURMETOPS_REGISTRY_HTPASSWD": str(htpasswd)},
    )
    assert rendered.returncode == 0, rendered.stdout[-3000:]
    outputs = default.stdout + asked.stdout + dry.stdout + back.stdout + rendered.stdout
    secrets = (password, hashed, hashed.split("$")[-1])
    assert secret_holders(secrets, {"output": outputs}, [render_dir, STATE_DIR]) == []
