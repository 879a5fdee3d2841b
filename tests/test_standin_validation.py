"""The API STAND-IN's server-side validation (tests/kube_standin/fieldvalidation.py and
admission.py) with the API server's v1.30 wording: unknown and duplicate fields under
`fieldValidation` Strict (400 on create, 422 on a patch, 500 in server-side apply whatever
the directive), Warn (the default: Warning headers, the fields dropped) and Ignore; names
that are not the kind's DNS format and out-of-range ports (422 Invalid with its causes).

Checked three ways: raw HTTP (the exact Status and headers), the kubernetes Python client
(a bad name: its models refuse unknown fields before sending), and the real kubectl 1.30
and 1.32, which find `fieldValidation` in the stand-in's /openapi/v3 and leave validation
to the server. Messages are the ones kube-apiserver's own tests expect
(test/e2e/apimachinery/field_validation.go,
test/integration/apiserver/field_validation_test.go) or the sources cited in the modules.
Still a stand-in: nothing here was run against a kube-apiserver."""

from __future__ import annotations

import http.client
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from gourmetops import PROJECT_ROOT
from tests.kube_standin import serve
from tests.kube_standin.kubectl import KUBECTL_1_30, KUBECTL_1_32, runner

NS = "kube-gourmetgram"
DEP = "gourmetgram-kube-app"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NS}/deployments"
SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
RANGE = "must be between 1 and 65535, inclusive"


def deployment_json(spec_head: str = "", container_tail: str = "", name: str = DEP) -> str:
    """A Deployment as raw JSON text, so duplicate keys reach the server."""
    return (
        '{"apiVersion": "apps/v1", "kind": "Deployment", '
        f'"metadata": {{"name": "{name}", "labels": {{"app": "a"}}}}, '
        f'"spec": {{{spec_head}"selector": {{"matchLabels": {{"app": "a"}}}}, '
        '"template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": '
        f'[{{"name": "app", "image": "nginx:1.27"{container_tail}}}]}}}}}}}}'
    )


class Raw:
    def __init__(self, port: int) -> None:
        self.port = port

    def __call__(
        self, method: str, path: str, body: str, kind: str = "application/json"
    ) -> tuple[int, list[str], dict[str, Any]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body.encode(), headers={"Content-Type": kind})
            answer = conn.getresponse()
            warnings = [v for k, v in answer.getheaders() if k == "Warning"]
            return answer.status, warnings, json.loads(answer.read())
        finally:
            conn.close()


@pytest.fixture
def raw() -> Iterator[tuple[Raw, Any]]:
    server, cluster = serve()
    send = Raw(server.server_address[1])
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    assert send("POST", "/api/v1/namespaces", json.dumps(ns))[0] == 201
    yield send, cluster
    server.shutdown()
    assert cluster.validated and cluster.invalid == []  # every answer passed the schema


def test_strict_create_refuses_unknown_and_duplicate_fields_in_document_order(raw):
    send, cluster = raw
    body = deployment_json('"unknownField": "foo", "replicas": 2, "replicas": 3, ')
    code, warnings, answer = send("POST", f"{DEPLOYMENTS}?fieldValidation=Strict", body)
    assert code == 400 and warnings == []
    assert answer["reason"] == "BadRequest"
    # the e2e conformance test's expectation, after transformDecodeError's words
    assert answer["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
        'unknown field "spec.unknownField", duplicate field "spec.replicas"'
    )
    nested = deployment_json(container_tail=', "imagePullPolicyy": "Always"')
    nested = nested.replace('"labels": {"app": "a"}}, "spec"', '"labelz": {}}, "spec"', 1)
    code, _, answer = send("POST", f"{DEPLOYMENTS}?fieldValidation=Strict", nested)
    assert code == 400
    assert answer["message"].endswith(
        'strict decoding error: unknown field "metadata.labelz", '
        'unknown field "spec.template.spec.containers[0].imagePullPolicyy"'
    )
    assert ("deployments", NS, DEP) not in cluster.objects


@pytest.mark.parametrize("directive", ["", "?fieldValidation=Warn"], ids=["default", "Warn"])
def test_warn_is_the_default_and_drops_what_it_warns_about(raw, directive):
    send, cluster = raw
    body = deployment_json('"replica": 2, "replicas": 2, "replicas": 3, ')
    code, warnings, answer = send("POST", DEPLOYMENTS + directive, body)
    assert code == 201
    assert warnings == [
        '299 - "unknown field \\"spec.replica\\""',
        '299 - "duplicate field \\"spec.replicas\\""',
    ]
    stored = cluster.objects[("deployments", NS, DEP)]
    assert "replica" not in stored["spec"] and stored["spec"]["replicas"] == 3
    assert answer["spec"] == stored["spec"]


def test_ignore_drops_unknown_fields_silently(raw):
    send, cluster = raw
    body = deployment_json(container_tail=', "imagePullPolicyy": "Always"')
    code, warnings, _ = send("POST", f"{DEPLOYMENTS}?fieldValidation=Ignore", body)
    assert code == 201 and warnings == []
    (container,) = cluster.objects[("deployments", NS, DEP)]["spec"]["template"]["spec"][
        "containers"
    ]
    assert "imagePullPolicyy" not in container


def test_a_strict_patch_is_422_with_the_patch_as_go_prints_it(raw):
    send, cluster = raw
    assert send("POST", DEPLOYMENTS, deployment_json())[0] == 201
    patch = '{"spec": {"replica": 3, "paused": true, "paused": false}}'
    smp = "application/strategic-merge-patch+json"
    code, _, answer = send("PATCH", f"{DEPLOYMENTS}/{DEP}?fieldValidation=Strict", patch, smp)
    assert code == 422 and answer["reason"] == "Invalid"
    detail = (
        'Invalid value: "map[spec:map[paused:false replica:3]]": strict decoding error: '
        'duplicate field "spec.paused", unknown field "spec.replica"'
    )
    # handlers/patch.go: errors.NewInvalid(schema.GroupKind{}, "", ...), so no kind or name
    assert answer["message"] == f' "" is invalid: patch: {detail}'
    assert answer["details"] == {
        "causes": [{"reason": "FieldValueInvalid", "message": detail, "field": "patch"}]
    }
    merge = "application/merge-patch+json"
    code, warnings, answer = send("PATCH", f"{DEPLOYMENTS}/{DEP}", patch, merge)
    assert code == 200
    assert warnings == [
        '299 - "duplicate field \\"spec.paused\\""',
        '299 - "unknown field \\"spec.replica\\""',
    ]
    assert answer["spec"]["paused"] is False and "replica" not in answer["spec"]


@pytest.mark.parametrize("directive", ["Strict", "Ignore"])
def test_server_side_apply_of_an_unknown_field_is_a_500_whatever_the_directive(raw, directive):
    send, cluster = raw
    body = deployment_json('"replica": 2, ', ', "imagePullPolicyy": "Always"')
    query = f"?fieldManager=kubectl&fieldValidation={directive}"
    code, _, answer = send(
        "PATCH", f"{DEPLOYMENTS}/{DEP}{query}", body, "application/apply-patch+yaml"
    )
    assert code == 500 and "reason" not in answer  # a plain error (kubernetes#122480)
    assert answer["message"] == (
        f"failed to create typed patch object ({NS}/{DEP}; apps/v1, Kind=Deployment): errors:\n"
        "  .spec.replica: field not declared in schema\n"
        '  .spec.template.spec.containers[name="app"].imagePullPolicyy: field not declared in '
        "schema"
    )
    assert ("deployments", NS, DEP) not in cluster.objects


def test_names_and_ports_are_invalid_with_the_api_servers_causes(raw):
    send, cluster = raw
    body = deployment_json(
        name="Gourmet_App",
        container_tail=', "ports": [{"containerPort": 70000}, {"containerPort": 0}]',
    )
    code, _, answer = send("POST", DEPLOYMENTS, body)
    assert code == 422 and answer["reason"] == "Invalid"
    causes = [
        ("FieldValueInvalid", "metadata.name", f'Invalid value: "Gourmet_App": {SUBDOMAIN}'),
        (
            "FieldValueInvalid",
            "spec.template.spec.containers[0].ports[0].containerPort",
            f"Invalid value: 70000: {RANGE}",
        ),
        (
            "FieldValueRequired",
            "spec.template.spec.containers[0].ports[1].containerPort",
            "Required value",
        ),
    ]
    assert answer["details"] == {
        "name": "Gourmet_App",
        "group": "apps",
        "kind": "Deployment",
        "causes": [{"reason": r, "message": m, "field": f} for r, f, m in causes],
    }
    joined = ", ".join(f"{f}: {m}" for _, f, m in causes)
    assert answer["message"] == f'Deployment.apps "Gourmet_App" is invalid: [{joined}]'

    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "9-svc"},
        "spec": {"selector": {"app": "a"}, "ports": [{"port": 0}]},
    }
    code, _, answer = send("POST", f"/api/v1/namespaces/{NS}/services", json.dumps(service))
    assert code == 422
    assert answer["message"] == (
        'Service "9-svc" is invalid: [metadata.name: Invalid value: "9-svc": a DNS-1035 label '
        "must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
        "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?'), spec.ports[0].port: "
        f"Invalid value: 0: {RANGE}, spec.ports[0].targetPort: Invalid value: 0: {RANGE}]"
    )
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "Kube_NS"}}
    code, _, answer = send("POST", "/api/v1/namespaces", json.dumps(namespace))
    assert code == 422 and answer["message"].startswith(
        'Namespace "Kube_NS" is invalid: metadata.name: Invalid value: "Kube_NS": a lowercase '
        "RFC 1123 label must consist of"
    )
    assert not [k for k in cluster.objects if k[0] in ("deployments", "services")]


def test_the_kubernetes_python_client_gets_the_status():
    """This client (pydantic models) refuses unknown fields before sending; what reaches the
    server is a bad name, and the client raises with the 422's Status."""
    server, cluster = serve()
    try:
        config = k8s.Configuration()
        config.host = f"http://127.0.0.1:{server.server_address[1]}"
        with k8s.ApiClient(config) as api:
            k8s.CoreV1Api(api).create_namespace({"metadata": {"name": NS}})
            body = json.loads(deployment_json(name="Gourmet_App"))
            with pytest.raises(k8s.ApiException) as refused:
                k8s.AppsV1Api(api).create_namespaced_deployment(NS, body, field_validation="Strict")
    finally:
        server.shutdown()
    assert refused.value.status == 422
    answer = json.loads(refused.value.body)
    assert answer["reason"] == "Invalid"
    assert answer["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": f'Invalid value: "Gourmet_App": {SUBDOMAIN}',
            "field": "metadata.name",
        }
    ]
    assert cluster.invalid == []


KUBECTL = {"kubectl.1.30": KUBECTL_1_30, "kubectl.1.32": KUBECTL_1_32}


def _manifest(name: str, *edits: tuple[str, str]) -> str:
    text = (PROJECT_ROOT / "manifests" / name).read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("build", list(KUBECTL))
def test_kubectl_leaves_validation_to_the_server_and_shows_its_answers(standin_kubeconfig, build):
    config, cluster, tmp = standin_kubeconfig
    run = runner(KUBECTL[build], config, tmp)

    def applied(text: str, *flags: str) -> subprocess.CompletedProcess:
        path = tmp / "object.yaml"
        path.write_text(text)
        return run("apply", *flags, "-f", str(path))

    # the namespace as the tutorial's manifest has it (apply sends JSON)
    assert run("apply", "-f", "manifests/namespace.yaml").returncode == 0
    unknown = _manifest("deployment.yaml", ("  replicas: 1\n", "  replicas: 1\n  replica: 2\n"))
    refused = applied(unknown)
    assert refused.returncode == 1
    assert (
        'Error from server (BadRequest): error when creating "'
        + str(tmp / "object.yaml")
        + '": Deployment in version "v1" cannot be handled as a Deployment: strict decoding '
        'error: unknown field "spec.replica"'
    ) in refused.stderr, refused.stderr
    assert ("GET", "/openapi/v3/apis/apps/v1") in cluster.requests
    assert ("GET", "/openapi/v2") not in cluster.requests  # no validation on kubectl's side
    assert ("POST", DEPLOYMENTS, "Strict") in cluster.directives

    warned = applied(unknown, "--validate=warn")
    assert warned.returncode == 0, warned.stderr
    assert 'Warning: unknown field "spec.replica"' in warned.stderr
    assert "replica" not in cluster.objects[("deployments", NS, DEP)]["spec"]

    typo = _manifest("deployment.yaml", ("imagePullPolicy:", "imagePullPolicyy:"))
    patched = applied(typo)
    assert patched.returncode == 1
    assert "The request is invalid: patch: Invalid value: " in patched.stderr
    assert patched.stderr.rstrip().endswith(
        'strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy"'
    ), patched.stderr
    server_side = applied(typo, "--server-side")
    assert server_side.returncode == 1
    assert (
        f"Error from server: failed to create typed patch object ({NS}/{DEP}; apps/v1, "
        f'Kind=Deployment): .spec.template.spec.containers[name="{DEP}"].imagePullPolicyy: '
        "field not declared in schema"
    ) in server_side.stderr, server_side.stderr

    for edits, message in [
        (
            [(f"name: {DEP}\n", "name: Gourmet_App\n")],
            f'The Deployment "Gourmet_App" is invalid: metadata.name: Invalid value: '
            f'"Gourmet_App": {SUBDOMAIN}',
        ),
        (
            [("containerPort: 8000", "containerPort: 70000"), (f"name: {DEP}\n", "name: big\n")],
            'The Deployment "big" is invalid: spec.template.spec.containers[0].ports[0].'
            f"containerPort: Invalid value: 70000: {RANGE}",
        ),
        (
            [("containerPort: 8000", "containerPort: 0"), (f"name: {DEP}\n", "name: zero\n")],
            'The Deployment "zero" is invalid: spec.template.spec.containers[0].ports[0].'
            "containerPort: Required value",
        ),
    ]:
        invalid = applied(_manifest("deployment.yaml", *edits))
        assert invalid.returncode == 1 and message in invalid.stderr, invalid.stderr
    port = applied(_manifest("service.yaml", ("port: 80 ", "port: 0 ")))
    assert port.returncode == 1
    assert (
        'The Service "gourmetgram-kube-svc" is invalid: spec.ports[0].port: Invalid value: 0: '
        + RANGE
    ) in port.stderr, port.stderr
    assert {k[0] for k in cluster.objects} == {"namespaces", "deployments"}
