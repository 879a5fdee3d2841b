"""The API stand-in served over TLS with a bearer token, and an admin kubeconfig for it:
what the real kubectl and our client are pointed at (conftest loads this as a plugin)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gourmetops.cluster import Cluster as Model
from tests.kube_standin import serve
from tests.kube_standin.certs import admin_kubeconfig, certificates

TOKEN = "standin-token-9f3a"


@pytest.fixture
def standin_kubeconfig_for(
    tmp_path: Path,
) -> Iterator[Callable[[Model | None], tuple[Path, Any, Path]]]:
    """start(model) -> (kubeconfig, the stand-in's cluster, tmp_path), its nodes those of
    `model` (None: cluster.yaml's); every object it saw must have been validated and none
    refused unexpectedly."""
    started = []

    def start(model: Model | None = None) -> tuple[Path, Any, Path]:
        ca, crt, key = certificates(tmp_path)
        server, cluster = serve(token=TOKEN, tls=(str(crt), str(key)), model=model)
        started.append((server, cluster))
        config = tmp_path / "kubeconfig"
        url = f"https://127.0.0.1:{server.server_address[1]}"
        config.write_text(admin_kubeconfig(ca, url, TOKEN))
        return config, cluster, tmp_path

    yield start
    for server, cluster in started:
        server.shutdown()
        assert cluster.validated and cluster.invalid == []


@pytest.fixture
def standin_kubeconfig(standin_kubeconfig_for) -> tuple[Path, Any, Path]:
    """(kubeconfig, the stand-in's cluster, tmp_path), for cluster.yaml's nodes."""
    return standin_kubeconfig_for(None)
