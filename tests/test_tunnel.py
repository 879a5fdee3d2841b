"""The API tunnel `fab rollout` and friends open: a real `ssh -L` through the lab's node1 to
its 127.0.0.1:6443. The lab has no API server, so a plain HTTP server stands on that port
for the test; what is checked is the tunnel: it opens, carries traffic, and is gone after."""

from __future__ import annotations

import urllib.request

import pytest

from gourmetops.app.tunnel import api_tunnel, port_open
from tests.labtools import Lab

LOCAL_PORT = 17643


@pytest.fixture
def listener_on_node1(lab: Lab):
    """An HTTP server on node1's loopback port 6443, where the API server listens."""
    lab.ssh("node1", "mkdir -p /tmp/apistandin && echo tunnel-ok > /tmp/apistandin/healthz")
    server = "python3 -m http.server --bind 127.0.0.1 --directory /tmp/apistandin 6443"
    with lab.serving("node1", server, 6443, "apistandin"):
        yield lab


def test_tunnel_carries_traffic_to_node1_loopback_and_closes(listener_on_node1: Lab):
    assert not port_open(LOCAL_PORT)
    lines: list[str] = []
    with api_tunnel(listener_on_node1.target, LOCAL_PORT, lines.append):
        body = urllib.request.urlopen(f"http://127.0.0.1:{LOCAL_PORT}/healthz", timeout=10).read()
        assert body == b"tunnel-ok\n"
    assert lines == []  # it opened its own tunnel
    assert not port_open(LOCAL_PORT)
