"""`fab logs`' support bundle without a node: the node script is valid sh, and a bundle made
from node output and controller logs that hold the real secret values (the registry
password, its base64 auth form, a bearer token, a private key) has none of them, while
the text around them stays. The lab test plants the same on real nodes."""

from __future__ import annotations

import base64
import json
import subprocess
import tarfile
from pathlib import Path

from gourmetops.check import bundle, redact, run
from gourmetops.context import RunContext
from tests.labtools import secret_holders

PASSWORD = "Tr0ub4dor&3-registry"
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl"
KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDmPlanted0nlyForTheTestxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx==\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
AUTH = base64.b64encode(f"gourmet:{PASSWORD}".encode()).decode()
SECRETS = [PASSWORD, TOKEN, AUTH, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"]


def test_node_script_is_posix_sh():
    subprocess.run(["sh", "-n"], input=bundle.node_script(), text=True, check=True)
    assert "journalctl -b -u docker.service" in bundle.node_script()
    assert ".ssh" not in bundle.node_script() and ".kube" not in bundle.node_script()


def test_redaction_of_each_kind():
    text = redact.redact(
        f'{{"auths": {{"node1:5000": {{"auth": "{AUTH}"}}}}}}\n'
        f"Authorization: Bearer {TOKEN}\nlogin password={PASSWORD} ok\n{KEY}"
        f"https://gourmet:{PASSWORD}@node1:5000/v2/\n-----BEGIN RSA PRIVATE KEY-----\nMIIEcut",
        redact.literal_secrets(PASSWORD, ["gourmet"]),
    )
    assert secret_holders(SECRETS + ["MIIEcut"], {"text": text}, []) == []
    assert "Authorization: Bearer [REDACTED]" in text and "login password=[REDACTED] ok" in text
    assert text.count("[REDACTED PRIVATE KEY]") == 2 and '"auth": "[REDACTED]"' in text


def test_bundle_holds_logs_and_no_secret(monkeypatch, tmp_path: Path):
    journal = (
        f"Jun 10 sshd[812]: Invalid user {PASSWORD} from 10.254.1.12\n"
        f"Jun 10 dockerd[90]: Authorization: Bearer {TOKEN}\n"
    )
    node_out = (
        f"\n@@gourmetops:journal-docker@@\n{journal}"
        f'\n@@gourmetops:daemon.json@@\n{{"insecure-registries": ["node1:5000"], "auth": "{AUTH}"}}'
        "\n@@gourmetops:end@@\n"
    )

    def ssh_all(target, commands):
        return {
            n: run.Reply(n, 255, "", "ssh: connect to host 10.254.1.13 port 22: No route", 0, 1)
            if n == "node3" else run.Reply(n, 0, node_out, "", 0, 1) for n in commands
        }  # fmt: skip

    log = tmp_path / "cluster-20240610-1-1.log"
    log.write_text(f"TASK [login]\n{KEY}token: {TOKEN}\nregistry password {PASSWORD}\n")
    monkeypatch.setattr(bundle, "ssh_all", ssh_all)
    monkeypatch.setattr(
        bundle, "_controller_logs", lambda ctx: {f"controller/logs/{log.name}": log}
    )
    monkeypatch.setenv("GOURMETOPS_REGISTRY_PASSWORD", PASSWORD)
    monkeypatch.setenv("GOURMETOPS_REGISTRY_USER", "gourmet")
    out = bundle.write(RunContext("lab"), tmp_path / "support.tar.gz")
    with tarfile.open(out) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    top = tmp_path / "x" / "support"
    assert secret_holders(SECRETS, {}, [top]) == []
    assert (
        "Invalid user [REDACTED] from 10.254.1.12" in (top / "node1/journal-docker.txt").read_text()
    )
    assert '"insecure-registries": ["node1:5000"]' in (top / "node2/daemon.json.txt").read_text()
    index = json.loads((top / "index.json").read_text())
    assert {e["node"] for e in index} == {"node1", "node2", "node3", "controller"}
    assert (
        "not collected: ssh: connect to host 10.254.1.13 port 22: No route"
        in (top / "index.md").read_text()
    )
