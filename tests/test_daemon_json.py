"""Merging the registry into /etc/docker/daemon.json (pure; the lab tests run it on nodes)."""

from __future__ import annotations

import json

import pytest

from gourmetops.registry.daemon_json import DaemonJsonError, merge


def test_new_file_trusts_the_registry():
    assert json.loads(merge(None, "node1:5000")) == {"insecure-registries": ["node1:5000"]}


def test_other_keys_and_registries_are_kept():
    existing = '{"log-driver": "journald", "insecure-registries": ["other:5000"]}'
    assert json.loads(merge(existing, "node1:5000")) == {
        "log-driver": "journald",
        "insecure-registries": ["other:5000", "node1:5000"],
    }


def test_already_trusted_is_left_as_it_is():
    assert merge('{"insecure-registries": ["node1:5000"], "debug": true}', "node1:5000") is None


@pytest.mark.parametrize(
    ("existing", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "is not a JSON object"),
        ('{"insecure-registries": "node1:5000"}', "insecure-registries is not a list"),
    ],
)
def test_unusable_files_are_refused_by_name(existing, message):
    with pytest.raises(DaemonJsonError, match=f"node3:/etc/docker/daemon.json.*{message}"):
        merge(existing, "node1:5000", where="node3:/etc/docker/daemon.json")


def test_registry_container_differs_by_what_docker_inspect_shows():
    """pyinfra's docker.container keeps a container whose settings changed; the registry
    stage recreates it when these differ (inspect output trimmed to what is read)."""
    from gourmetops.registry.service import container_differs

    volumes = ["registry-data:/var/lib/registry"]
    live = [
        {
            "Config": {"Image": "registry:2", "Env": ["PATH=/usr/bin"]},
            "HostConfig": {
                "PortBindings": {"5000/tcp": [{"HostIp": "10.254.1.11", "HostPort": "5000"}]},
                "Binds": volumes,
            },
        }
    ]
    assert container_differs(live, "registry:2", "10.254.1.11:5000:5000", [], volumes) == []
    assert container_differs(live, "registry:2", "5000:5000", [], volumes) == ["ports"]
    auth = ["REGISTRY_AUTH=htpasswd"]
    with_auth = [*volumes, "/etc/gourmetops/registry.htpasswd:/auth/htpasswd:ro"]
    assert container_differs(live, "registry:2", "10.254.1.11:5000:5000", auth, with_auth) == [
        "environment",
        "volumes",
    ]
    assert container_differs(None, "registry:2", "5000:5000", [], volumes) == []
