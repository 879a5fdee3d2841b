"""The private registry on node1: its configuration, and reading it over its HTTP API.

No auth by default, as in the tutorial; so it listens on node1's private address only (node1
also has a floating IP). An htpasswd file (bcrypt, `htpasswd -Bc`) turns on basic auth.
"""

from __future__ import annotations

import io
import json
import shlex

from ruamel.yaml import YAML

CONTAINER_HTPASSWD = "/auth/htpasswd"
PACKAGE_CONFIG = "/etc/docker/registry/config.yml"
PACKAGE_HTPASSWD = "/etc/docker/registry/htpasswd"
PACKAGE_STORAGE = "/var/lib/docker-registry"


class RegistryError(RuntimeError):
    """The registry did not answer as expected; the message says what it answered."""


def listen_address(private_address: str, port: int, bind: str) -> str:
    """host:port the registry binds: node1's private address unless `bind` is "all"."""
    if bind not in ("private", "all"):
        raise ValueError(f"registry_bind must be 'private' or 'all', not {bind!r}")
    return f"{private_address}:{port}" if bind == "private" else f":{port}"


def package_config(addr: str, htpasswd: bool) -> str:
    """config.yml for Debian's docker-registry (the same distribution registry as registry:2)."""
    config: dict = {
        "version": 0.1,
        "log": {"fields": {"service": "registry"}},
        "storage": {
            "cache": {"blobdescriptor": "inmemory"},
            "filesystem": {"rootdirectory": PACKAGE_STORAGE},
        },
        "http": {"addr": addr, "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "health": {"storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}},
    }
    if htpasswd:
        config["auth"] = {"htpasswd": {"realm": "gourmetops", "path": PACKAGE_HTPASSWD}}
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(config, out)
    return out.getvalue()


def container_env(htpasswd: bool) -> list[str]:
    """registry:2's environment for the same settings."""
    if not htpasswd:
        return []
    return [
        "REGISTRY_AUTH=htpasswd",
        "REGISTRY_AUTH_HTPASSWD_REALM=gourmetops",
        f"REGISTRY_AUTH_HTPASSWD_PATH={CONTAINER_HTPASSWD}",
    ]


# Run with node1's python3 (every node has it): the registry is only reachable from there.
_API_SCRIPT = r"""
import base64, json, os, sys, urllib.error, urllib.request
base, paths = sys.argv[1], sys.argv[2:]
auth = os.environ.get("REGISTRY_AUTH")
out = {}
for path in paths:
    req = urllib.request.Request(base + path, method="GET", headers={
        "Accept": "application/vnd.oci.image.index.v1+json, "
                  "application/vnd.oci.image.manifest.v1+json, "
                  "application/vnd.docker.distribution.manifest.v2+json, "
                  "application/vnd.docker.distribution.manifest.list.v2+json"})
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read().decode()
            out[path] = [resp.status, json.loads(body) if body.startswith("{") else None]
    except urllib.error.HTTPError as exc:
        out[path] = [exc.code, None]
    except OSError as exc:
        out[path] = [0, str(exc)]
print(json.dumps(out))
"""


def api_command(base_url: str, paths: list[str]) -> str:
    """Shell command (for node1) that GETs each path and prints {path: [status, json]}."""
    return shlex.join(["python3", "-c", _API_SCRIPT, base_url, *paths])


def parse_api(output: str) -> dict[str, tuple[int, object]]:
    try:
        raw = json.loads(output)
    except ValueError as exc:
        raise RegistryError(f"unexpected answer from the registry check: {output!r}") from exc
    return {path: (status, body) for path, (status, body) in raw.items()}
