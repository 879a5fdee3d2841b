"""The private registry on node1: its configuration, and reading it over its HTTP API.

No auth by default, as in the tutorial; so it listens on node1's private address only (node1
also has a floating IP). An htpasswd file (bcrypt, `htpasswd -Bc`) turns on basic auth; the
controller then logs in as `registry_user` with the password from GOURMETOPS_REGISTRY_PASSWORD.
The password only ever travels on stdin (never argv, which `ps` on node1 shows, nor a file
other than the container tool's own auth file, written by `login --password-stdin`).
"""

from __future__ import annotations

import io
import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gourmetops.errors import GourmetopsError
from gourmetops.yamlio import dump

if TYPE_CHECKING:
    from gourmetops.settings_schema import Settings

PASSWORD_ENV = "GOURMETOPS_REGISTRY_PASSWORD"

CONTAINER_HTPASSWD = "/auth/htpasswd"
PACKAGE_CONFIG = "/etc/docker/registry/config.yml"
PACKAGE_HTPASSWD = "/etc/docker/registry/htpasswd"
PACKAGE_STORAGE = "/var/lib/docker-registry"


class RegistryError(GourmetopsError, RuntimeError):
    """The registry did not answer as expected; the message says what it answered."""


def listen_address(private_address: str, port: int, bind: str) -> str:
    """host:port the registry binds: node1's private address unless `bind` is "all"."""
    if bind not in ("private", "all"):
        raise ValueError(f"registry_bind must be 'private' or 'all', not {bind!r}")
    return f"{private_address}:{port}" if bind == "private" else f":{port}"


def package_config(addr: str, htpasswd: bool, storage: str = PACKAGE_STORAGE) -> str:
    """config.yml for Debian's docker-registry (the same distribution registry as registry:2;
    the lab's registry:2 image is made from it with storage in /var/lib/registry)."""
    config: dict = {
        "version": 0.1,
        "log": {"fields": {"service": "registry"}},
        "storage": {
            "cache": {"blobdescriptor": "inmemory"},
            "filesystem": {"rootdirectory": storage},
        },
        "http": {"addr": addr, "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "health": {"storagedriver": {"enabled": True, "interval": "10s", "threshold": 3}},
    }
    if htpasswd:
        config["auth"] = {"htpasswd": {"realm": "gourmetops", "path": PACKAGE_HTPASSWD}}
    return dump(config, plain=True)


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
auth = sys.stdin.readline().rstrip("\n")  # "user:password", or empty: never in argv
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
    """Shell command (for node1) that GETs each path and prints {path: [status, json]}.
    Its stdin's first line is "user:password" for basic auth, or empty."""
    return shlex.join(["python3", "-c", _API_SCRIPT, base_url, *paths])


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)  # so no traceback or debug print shows it


def credentials(data: Settings, env: Mapping[str, str] | None = None) -> Credentials | None:
    """The controller's login for the registry: `registry_user` (group_data) and the password
    from GOURMETOPS_REGISTRY_PASSWORD; None when the registry has no auth. Auth on
    (registry_htpasswd or registry_user set) without a password stops here, naming what to set."""
    env = os.environ if env is None else env
    user = data.registry_user
    password = env.get(PASSWORD_ENV) or None
    htpasswd = data.registry_htpasswd
    if not user and not htpasswd and not password:
        return None
    why = f"registry_htpasswd = {htpasswd}" if htpasswd else f"registry_user = {user!r}"
    if not user:
        raise RegistryError(
            f"registry auth is on ({why}) but registry_user is not set: set registry_user "
            f"in group_data (or GOURMETOPS_REGISTRY_USER) and the password in {PASSWORD_ENV}"
            if htpasswd
            else f"{PASSWORD_ENV} is set but registry_user is not: set registry_user in "
            "group_data (or GOURMETOPS_REGISTRY_USER)"
        )
    if not password:
        raise RegistryError(
            f"registry auth is on ({why}) but no password was given: "
            f"export {PASSWORD_ENV} (the password of registry_user {user!r})"
        )
    return Credentials(user, password)


def query(
    conn: Any, base_url: str, paths: list[str], creds: Credentials | None
) -> dict[str, tuple[int, object]]:
    """GET `paths` from node1 (the registry is only reachable from there), credentials on
    stdin. A 401 is an error naming the setting to fix."""
    line = f"{creds.user}:{creds.password}\n" if creds else "\n"
    result = conn.run(api_command(base_url, paths), hide=True, in_stream=io.StringIO(line))
    answer = parse_api(result.stdout)
    if any(status == 401 for status, _ in answer.values()):
        if creds is None:
            raise RegistryError(
                f"registry {base_url} requires a login (401): set registry_user in group_data "
                f"and the password in {PASSWORD_ENV}"
            )
        raise RegistryError(
            f"registry {base_url} refused registry_user {creds.user!r} with the password "
            f"from {PASSWORD_ENV} (401)"
        )
    return answer


def login_command(tool: str, registry: str, user: str) -> str:
    """`<tool> login` reading the password from stdin, so it is in no argv; the tool keeps
    it in its own auth file (root's, 0600)."""
    return (
        f"sudo {shlex.quote(tool)} login --username {shlex.quote(user)} --password-stdin "
        f"{shlex.quote(registry)}"
    )


def login(conn: Any, tool: str, registry: str, creds: Credentials) -> None:
    result = conn.run(
        login_command(tool, registry, creds.user),
        hide=True,
        warn=True,
        in_stream=io.StringIO(creds.password + "\n"),
    )
    if result.failed:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise RegistryError(f"`{tool} login {registry}` as {creds.user!r} failed: {tail}")


def parse_api(output: str) -> dict[str, tuple[int, object]]:
    try:
        raw = json.loads(output)
    except ValueError as exc:
        raise RegistryError(f"unexpected answer from the registry check: {output!r}") from exc
    return {path: (status, body) for path, (status, body) in raw.items()}


def container_differs(
    inspect: list[dict[str, Any]] | None,
    image: str,
    port: str,
    env: list[str],
    volumes: list[str],
) -> list[str]:
    """What differs between the live registry container (`docker inspect` output) and the one
    asked for: pyinfra's docker.container never recreates a container whose settings
    changed, so auth or the bind address would silently stay as they were.

        container_differs(live, "registry:2", "10.254.1.11:5000:5000", [], ["registry-data:..."])
        -> ["ports"]
    """
    if not inspect:
        return []
    live = inspect[0]
    published = port.split(":")[:-1]  # "ip:port:5000" or "port:5000"
    want_ports = {(published[0], published[1]) if len(published) == 2 else ("", published[0])}
    bindings = (live.get("HostConfig", {}).get("PortBindings") or {}).get("5000/tcp") or []
    live_ports = {(b.get("HostIp", ""), b.get("HostPort", "")) for b in bindings}
    live_env = {e for e in live.get("Config", {}).get("Env") or [] if e.startswith("REGISTRY_")}
    checks = {
        "image": live.get("Config", {}).get("Image") == image,
        "ports": live_ports == want_ports,
        "environment": live_env == set(env),
        "volumes": set(live.get("HostConfig", {}).get("Binds") or []) == set(volumes),
    }
    return [what for what, same in checks.items() if not same]
