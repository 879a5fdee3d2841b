"""Kubernetes protobuf request bodies on the API STAND-IN (tests/kube_standin/protobuf.py):
since v1.32 kubectl sends `create namespace` and `autoscale` as protobuf, so the stand-in
decodes those kinds to what the same commands send as JSON with kubectl v1.30, and answers
415 for a kind it has no table for instead of storing a guess. The bodies below are the
bytes kubectl v1.32.5 sent for `create namespace x` and `autoscale deployment
gourmetgram-kube-app --min 2 --max 6 --cpu-percent 50`."""

from __future__ import annotations

import http.client
import json

import pytest

from tests.kube_standin import protobuf, serve

NAMESPACE = bytes.fromhex(
    "6b3873000a0f0a02763112094e616d65737061636512190a110a017812001a0022002a0032003800420012"
    "001a020a001a002200"
)
AUTOSCALE = bytes.fromhex(
    "6b3873000a290a0e6175746f7363616c696e672f76311217486f72697a6f6e74616c506f644175746f7363"
    "616c657212610a240a14676f75726d65746772616d2d6b7562652d61707012001a0022002a003200380042"
    "0012330a2b0a0a4465706c6f796d656e741214676f75726d65746772616d2d6b7562652d6170701a076170"
    "70732f76311002180620321a04180020001a002200"
)


def test_kubectl_132s_bodies_decode_to_their_json():
    assert protobuf.decode(NAMESPACE) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "x"},
        "spec": {},
        "status": {},
    }
    assert protobuf.decode(AUTOSCALE) == {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "gourmetgram-kube-app"},
        "spec": {
            "scaleTargetRef": {
                "kind": "Deployment",
                "name": "gourmetgram-kube-app",
                "apiVersion": "apps/v1",
            },
            "minReplicas": 2,
            "maxReplicas": 6,
            "targetCPUUtilizationPercentage": 50,
        },
        "status": {},
    }


def envelope(api_version: str, kind: str, raw: bytes = b"") -> bytes:
    def field(number: int, data: bytes) -> bytes:
        return bytes([number << 3 | 2, len(data)]) + data

    type_meta = field(1, api_version.encode()) + field(2, kind.encode())
    return protobuf.MAGIC + field(1, type_meta) + field(2, raw)


def test_what_has_no_table_is_unsupported_not_guessed():
    with pytest.raises(protobuf.Unsupported, match="apps/v1 Deployment"):
        protobuf.decode(envelope("apps/v1", "Deployment"))
    unknown_field = bytes([0x0A, 2, 0x7A, 0])  # ObjectMeta field 15: not in the table
    with pytest.raises(protobuf.Unsupported, match="ObjectMeta field 15"):
        protobuf.decode(envelope("v1", "Namespace", unknown_field))


def test_the_server_creates_from_protobuf_and_refuses_the_rest_with_415():
    server, cluster = serve()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
        headers = {"Content-Type": protobuf.MEDIA_TYPE}
        conn.request("POST", "/api/v1/namespaces", body=NAMESPACE, headers=headers)
        created = conn.getresponse()
        body = json.loads(created.read())
        deployment = envelope("apps/v1", "Deployment")
        path = "/apis/apps/v1/namespaces/x/deployments"
        conn.request("POST", path, body=deployment, headers=headers)
        refused = conn.getresponse()
        status = json.loads(refused.read())
    finally:
        server.shutdown()
    assert (created.status, body["metadata"]["name"]) == (201, "x")
    assert ("namespaces", "", "x") in cluster.objects
    assert (refused.status, status["reason"]) == (415, "UnsupportedMediaType")
