"""The registry stage on the lab: the `registry` container (registry:2) under node1's
dockerd, and every node's dockerd trusting it through daemon.json (tests/test_docker_path.py
pulls with that trust and shows it missing)."""

from __future__ import annotations

import hashlib
import json

import pytest

from gourmetops.settings import host_settings
from tests.labtools import Lab, results_total

DAEMON_JSON = "/etc/docker/daemon.json"
LAB_KEYS = host_settings("lab").docker_daemon_settings  # the engine stand-in's own keys


@pytest.fixture(scope="module")
def registry_lab(docker_lab: Lab) -> Lab:
    result = docker_lab.fab("registry")
    assert result.returncode == 0, result.stdout[-3000:]
    return docker_lab


def running(lab: Lab, node: str) -> str:
    return lab.out(node, "sudo docker ps --filter name=^registry$ --format '{{.Status}}'")


def listeners(lab: Lab, node: str) -> list[str]:
    return lab.out(node, "ss -ltnH 'sport = :5000' | awk '{print $4}'").split()


def test_registry_runs_on_node1_private_address_only(registry_lab: Lab):
    lab = registry_lab
    assert running(lab, "node1").startswith("Up")
    assert listeners(lab, "node1") == ["10.254.1.11:5000"]
    for node in ("node2", "node3"):
        assert running(lab, node) == "", node
    # Reached from node2 over the private network by the name every node uses.
    status = lab.out(
        "node2",
        'python3 -c "import urllib.request as u; '
        "print(u.urlopen('http://node1:5000/v2/').status)\"",
    )
    assert status == "200"


def test_every_node_trusts_the_registry(registry_lab: Lab):
    for node in registry_lab.nodes:
        config = json.loads(registry_lab.out(node, f"cat {DAEMON_JSON}"))
        assert config == {**LAB_KEYS, "insecure-registries": ["node1:5000"]}, node


def test_second_run_changes_nothing(registry_lab: Lab):
    result = registry_lab.pyinfra("registry")
    assert result.returncode == 0, result.stdout[-3000:]
    total = results_total(result.stdout)
    assert total["success"] == "-" and total["error"] == "-", result.stdout[-3000:]


def test_a_stopped_registry_is_started(registry_lab: Lab):
    registry_lab.ssh("node1", "sudo docker stop registry")
    assert running(registry_lab, "node1") == ""
    result = registry_lab.fab("registry")
    assert result.returncode == 0, result.stdout[-3000:]
    assert running(registry_lab, "node1").startswith("Up")


def test_existing_daemon_json_is_merged_not_overwritten(registry_lab: Lab):
    lab = registry_lab
    mine = {**LAB_KEYS, "log-driver": "journald", "insecure-registries": ["other:5000"]}
    lab.ssh("node2", f"sudo tee {DAEMON_JSON} >/dev/null", input=json.dumps(mine))
    result = lab.fab("registry")
    assert result.returncode == 0, result.stdout[-3000:]
    assert json.loads(lab.out("node2", f"cat {DAEMON_JSON}")) == {
        **mine,
        "insecure-registries": ["other:5000", "node1:5000"],
    }
    assert lab.out("node2", "sudo docker info --format '{{.LoggingDriver}}'") == "journald"
    again = lab.pyinfra("registry")
    assert results_total(again.stdout)["success"] == "-", again.stdout[-3000:]


def test_invalid_daemon_json_is_refused_and_left_untouched(registry_lab: Lab):
    lab = registry_lab
    broken = '{"log-driver": "journald",, }\n'
    good = lab.out("node3", f"cat {DAEMON_JSON}")
    lab.ssh("node3", f"printf '%s' '{broken}' | sudo tee {DAEMON_JSON} >/dev/null")
    before = lab.out("node3", f"sha256sum {DAEMON_JSON}")
    result = lab.fab("registry")
    assert result.returncode != 0
    # pyinfra stops the whole run at this error, and says so once (not per host).
    assert result.stdout.strip().splitlines()[-1] == (
        f"registry failed on target lab: node3:{DAEMON_JSON} is not valid JSON (Expecting "
        "property name enclosed in double quotes: line 1 column 27 (char 26)); left untouched"
    )
    assert lab.out("node3", f"sha256sum {DAEMON_JSON}") == before
    assert before.split()[0] == hashlib.sha256(broken.encode()).hexdigest()
    lab.ssh("node3", f"sudo tee {DAEMON_JSON} >/dev/null", input=good + "\n")


def test_catalog_lists_the_registry(registry_lab: Lab):
    result = registry_lab.fab("catalog")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "registry http://10.254.1.11:5000:" in result.stdout


def test_htpasswd_turns_on_basic_auth(registry_lab: Lab, tmp_path):
    """An htpasswd file from the controller (bcrypt, as `htpasswd -B` writes it)."""
    import bcrypt

    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text(f"gourmet:{bcrypt.hashpw(b's3cret', bcrypt.gensalt()).decode()}\n")
    probe = (
        'python3 -c "import base64, urllib.request as u, urllib.error as e, sys\n'
        "r = u.Request('http://node1:5000/v2/')\n"
        "if len(sys.argv) > 1: r.add_header('Authorization', 'Basic ' + "
        "base64.b64encode(sys.argv[1].encode()).decode())\n"
        "try: print(u.urlopen(r).status)\n"
        'except e.HTTPError as x: print(x.code)" '
    )
    result = registry_lab.pyinfra("registry", "--data", f"registry_htpasswd={htpasswd}")
    assert result.returncode == 0, result.stdout[-3000:]
    assert registry_lab.out("node2", probe) == "401"
    assert registry_lab.out("node2", probe + "gourmet:s3cret") == "200"
    assert registry_lab.out("node2", probe + "gourmet:wrong") == "401"
    assert registry_lab.out(
        "node1", "sudo stat -c '%U:%G %a' /etc/gourmetops/registry.htpasswd"
    ) == ("root:root 640")

    off = registry_lab.fab("registry")
    assert off.returncode == 0, off.stdout[-3000:]
    assert registry_lab.out("node2", probe) == "200"
