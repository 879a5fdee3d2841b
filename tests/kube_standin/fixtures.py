"""The API stand-in served over TLS with a bearer token, and an admin kubeconfig for it:
what the real kubectl and our client are pointed at (conftest loads this as a plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.kube_standin import serve
from tests.kube_standin.certs import admin_kubeconfig, certificates

TOKEN = "standin-token-9f3a"


@pytest.fixture
def standin_kubeconfig(tmp_path: Path) -> Iterator[tuple[Path, Any, Path]]:
    """(kubeconfig, the stand-in's cluster, tmp_path); every object it saw must have been
    validated and none refused unexpectedly."""
    ca, crt, key = certificates(tmp_path)
    server, cluster = serve(token=TOKEN, tls=(str(crt), str(key)))
    config = tmp_path / "kubeconfig"
    config.write_text(admin_kubeconfig(ca, f"https://127.0.0.1:{server.server_address[1]}", TOKEN))
    yield config, cluster, tmp_path
    server.shutdown()
    assert cluster.validated and cluster.invalid == []
