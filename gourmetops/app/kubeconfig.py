"""The cluster's kubeconfig on the controller, and whether the nodes are Ready.

The API server listens on node1's private address, which a laptop cannot reach; the fetched
kubeconfig points at a local port that `ssh -L` forwards to node1's 127.0.0.1:6443.
kubespray puts 127.0.0.1 and localhost in the API server certificate, so TLS still verifies.
"""

from __future__ import annotations

import io
import json
import shlex
from collections.abc import Iterable
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from gourmetops.errors import GourmetopsError

API_PORT = 6443
DEFAULT_LOCAL_PORT = 16443


class KubeconfigError(GourmetopsError, ValueError):
    """A kubeconfig or node list we cannot use; the message says what is wrong."""


def rewrite_server(text: str, local_port: int, where: str = "kubeconfig") -> str:
    """Every cluster's server set to https://127.0.0.1:<local_port>, all else kept."""
    yaml = YAML()
    try:
        config = yaml.load(text)
    except YAMLError as exc:
        raise KubeconfigError(f"{where}: not valid YAML: {exc}") from exc
    clusters = (config or {}).get("clusters") if isinstance(config, dict) else None
    if not clusters:
        raise KubeconfigError(f"{where}: no clusters in it")
    for entry in clusters:
        cluster = entry.get("cluster") or {}
        if "server" not in cluster:
            raise KubeconfigError(f"{where}: cluster {entry.get('name')!r} has no server")
        if urlsplit(str(cluster["server"])).scheme != "https":
            raise KubeconfigError(f"{where}: server {cluster['server']!r} is not https")
        cluster["server"] = f"https://127.0.0.1:{local_port}"
    out = io.StringIO()
    yaml.dump(config, out)
    return out.getvalue()


def tunnel_command(ssh_config: str, local_port: int, head: str = "node1") -> list[str]:
    """The SSH tunnel the rewritten kubeconfig expects."""
    return [
        "ssh",
        "-F",
        ssh_config,
        "-N",
        "-L",
        f"127.0.0.1:{local_port}:127.0.0.1:{API_PORT}",
        head,
    ]


def node_readiness(nodes_json: str) -> dict[str, bool]:
    """Node name -> Ready, from `kubectl get nodes -o json`."""
    try:
        items = json.loads(nodes_json)["items"]
    except (ValueError, KeyError, TypeError) as exc:
        raise KubeconfigError(f"not a node list from `kubectl get nodes -o json`: {exc}") from exc
    ready = {}
    for item in items:
        conditions = item.get("status", {}).get("conditions", [])
        ready[item["metadata"]["name"]] = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in conditions
        )
    return ready


def not_ready(readiness: dict[str, bool], expected: Iterable[str]) -> list[str]:
    """Expected nodes that are missing or not Ready, each with why."""
    problems = []
    for name in expected:
        if name not in readiness:
            problems.append(f"{name} (not registered)")
        elif not readiness[name]:
            problems.append(f"{name} (NotReady)")
    return problems


def copy_for_user_command(user: str) -> str:
    """root's kubeconfig copied to `user` on node1 as the tutorial does (the whole ~/.kube,
    so a rerun picks up a renewed config); every value quoted for the remote shell."""
    home = f"/home/{user}"
    return (
        shlex.join(["sudo", "cp", "-R", "/root/.kube", f"{home}/"])
        + " && "
        + shlex.join(["sudo", "chown", "-R", f"{user}:", f"{home}/.kube"])
    )
