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
