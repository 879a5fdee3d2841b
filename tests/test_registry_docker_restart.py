"""Docker is restarted only when daemon.json changed. The lab has no Docker engine, so
node2 gets a stand-in for dockerd: a unit named docker.service running `sleep infinity`
(installed by this module, removed at its end). The registry stage finds and restarts it
exactly as it would dockerd; each restart gives the unit a new InvocationID, which is what
the tests compare (no timing involved)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.labtools import Lab

UNIT = "/etc/systemd/system/docker.service"
STANDIN = """[Unit]
Description=Stand-in for dockerd (gourmetops tests): the lab has no Docker engine

[Service]
ExecStart=/bin/sleep infinity
"""


@pytest.fixture(scope="module")
def docker_standin(fresh_lab: Lab) -> Iterator[Lab]:
    result = fresh_lab.fab("prepare")
    assert result.returncode == 0, result.stdout[-3000:]
    fresh_lab.ssh(
        "node2",
        f"sudo tee {UNIT} >/dev/null && sudo systemctl daemon-reload && "
        "sudo systemctl start docker.service && sudo rm -f /etc/docker/daemon.json",
        input=STANDIN,
    )
    yield fresh_lab
    fresh_lab.ssh(
        "node2",
        f"sudo systemctl stop docker.service; sudo rm -f {UNIT} && sudo systemctl daemon-reload",
    )


def invocation(lab: Lab) -> str:
    value = lab.out("node2", "systemctl show -P InvocationID docker.service")
    assert value, "the stand-in docker.service is not running"
    return value


def test_first_run_writes_daemon_json_and_restarts_docker(docker_standin: Lab):
    before = invocation(docker_standin)
    result = docker_standin.fab("registry")
    assert result.returncode == 0, result.stdout[-3000:]
    assert docker_standin.out("node2", "cat /etc/docker/daemon.json")
    assert invocation(docker_standin) != before
    assert docker_standin.out("node2", "systemctl is-active docker.service") == "active"


def test_second_run_leaves_docker_alone(docker_standin: Lab):
    before = invocation(docker_standin)
    result = docker_standin.fab("registry")
    assert result.returncode == 0, result.stdout[-3000:]
    assert invocation(docker_standin) == before


def test_changed_daemon_json_restarts_docker_again(docker_standin: Lab):
    docker_standin.ssh(
        "node2", 'echo \'{"log-driver": "journald"}\' | sudo tee /etc/docker/daemon.json'
    )
    before = invocation(docker_standin)
    result = docker_standin.fab("registry")
    assert result.returncode == 0, result.stdout[-3000:]
    assert invocation(docker_standin) != before
