"""Registry auth for pods: with auth on, rollout applies a kubernetes.io/dockerconfigjson
Secret built from GOURMETOPS_REGISTRY_PASSWORD and the Deployment names it in
imagePullSecrets; with auth off nothing changes. The password is in no rendered object, no
echoed line and no log record. Against tests/kube_standin (the API STAND-IN)."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest
from kubernetes import client

from gourmetops import STATE_DIR
from gourmetops.app import stage as app_stage
from gourmetops.app.kube import Kube
from gourmetops.app.manifests import PULL_SECRET, params_for, pull_secret_for, render, to_yaml
from gourmetops.settings import host_settings
from gourmetops.targets import lab_target
from tests.kube_standin import ModelClock, serve
from tests.labtools import secret_holders

USER, PASSWORD = "gourmet", "gm-Pull-pw-7c2e"
NS = "kube-gourmetgram"


@pytest.fixture
def api():
    server, cluster = serve()  # our waits sleep on its modelled clock
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{server.server_address[1]}"
    yield Kube.from_api_client(client.ApiClient(config), ModelClock(cluster)), cluster
    server.shutdown()
    assert cluster.invalid == []


def _auth_on(monkeypatch, htpasswd: Path, password: str | None = PASSWORD) -> None:
    """Registry auth on; the htpasswd a regular file, as settings require (its content is
    node1's registry's business, not this test's)."""
    htpasswd.write_text(f"{USER}:$2y$05$notchecked\n")
    monkeypatch.setenv("GOURMETOPS_REGISTRY_USER", USER)
    monkeypatch.setenv("GOURMETOPS_REGISTRY_HTPASSWD", str(htpasswd))
    if password:
        monkeypatch.setenv("GOURMETOPS_REGISTRY_PASSWORD", password)


def test_auth_on_rollout_creates_the_secret_and_references_it(api, monkeypatch, caplog, tmp_path):
    kube, cluster = api
    _auth_on(monkeypatch, tmp_path / "htpasswd")
    caplog.set_level(logging.DEBUG)
    params = params_for(lab_target(), host_settings("lab"))
    assert params.pull_secret == PULL_SECRET
    objects = render(params)
    secret = pull_secret_for(host_settings("lab"))
    lines: list[str] = []
    app_stage.rollout(kube, objects, 60, False, lines.append, secret=secret)

    live = cluster.objects[("secrets", NS, PULL_SECRET)]
    assert live["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(live["data"][".dockerconfigjson"]))
    login = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert config == {"auths": {params.image.split("/")[0]: {"username": USER, "auth": login}}}
    dep = cluster.objects[("deployments", NS, "gourmetgram-kube-app")]
    assert dep["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": PULL_SECRET}]
    assert f"applied Secret/{PULL_SECRET} (data not shown)" in lines

    again: list[str] = []
    app_stage.rollout(kube, objects, 10, True, again.append, secret=secret)
    assert f"Secret/{PULL_SECRET}: no change (data not shown)" in again
    app_stage.autoscale(kube, objects, 10, True, again.append, secret=secret)
    assert again.count(f"Secret/{PULL_SECRET}: no change (data not shown)") == 2

    texts = {
        "rollout output": "\n".join(lines + again),
        "rendered objects": "".join(to_yaml(o) for o in objects.values()),
        "log records": caplog.text,
    }
    forms = (PASSWORD, login, secret["data"][".dockerconfigjson"])
    assert secret_holders(forms, texts, [STATE_DIR] if STATE_DIR.exists() else []) == []


def test_auth_off_changes_nothing(api, monkeypatch):
    kube, cluster = api
    for name in ("GOURMETOPS_REGISTRY_USER", "GOURMETOPS_REGISTRY_HTPASSWD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GOURMETOPS_REGISTRY_PASSWORD", raising=False)
    assert pull_secret_for(host_settings("lab")) is None
    params = params_for(lab_target(), host_settings("lab"))
    assert params.pull_secret is None
    assert "imagePullSecrets" not in render(params)["deployment"]["spec"]["template"]["spec"]
    app_stage.rollout(kube, render(params), 60, False, lambda _: None, secret=None)
    assert [k for k in cluster.objects if k[0] == "secrets"] == []
