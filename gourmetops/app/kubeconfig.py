"""The cluster's kubeconfig on the controller, and whether the nodes are Ready.

The API server listens on node1's private address, which a laptop cannot reach; the fetched
kubeconfig points at a local port that `ssh -L` forwards to node1's 127.0.0.1:6443.
kubespray puts 127.0.0.1 and localhost in the API server certificate, so TLS still verifies.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gourmetops.errors import GourmetopsError, StageFailed
from gourmetops.kubespray.readiness import NodeListError, node_states, not_ready
from gourmetops.output import say
from gourmetops.safe_write import write_text

if TYPE_CHECKING:
    from gourmetops.context import RunContext
    from gourmetops.targets import Target

API_PORT = 6443
DEFAULT_LOCAL_PORT = 16443


class KubeconfigError(GourmetopsError, ValueError):
    """A kubeconfig or node list we cannot use; the message says what is wrong."""


def rewrite_server(text: str, local_port: int, where: str = "kubeconfig") -> str:
    """Every cluster's server set to https://127.0.0.1:<local_port>, all else kept."""
    # local: ruamel is slow to import, and every `fab` reads DEFAULT_LOCAL_PORT from here
    from ruamel.yaml.error import YAMLError

    from gourmetops.yamlio import dump, roundtrip

    try:
        config = roundtrip().load(text)
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
    return dump(config)


def tunnel_command(
    target: Target, local_port: int, batch: bool = False, foreground: bool = False
) -> list[str]:
    """The SSH tunnel the rewritten kubeconfig expects (as printed for the user, or, with
    `batch`, as run here: no prompt, and an exit when the port cannot be forwarded; with
    `foreground`, as `fab tunnel` holds it: prompts allowed, that exit too)."""
    options = ["-N", "-L", f"127.0.0.1:{local_port}:127.0.0.1:{API_PORT}"]
    if batch or foreground:
        options += ["-o", "ExitOnForwardFailure=yes"]
    return target.ssh_argv(target.cluster.jump.name, options=options, batch=batch)


def copy_for_user_command(user: str) -> str:
    """root's kubeconfig copied to `user` on node1 as the tutorial does (the whole ~/.kube,
    so a rerun picks up a renewed config); every value quoted for the remote shell."""
    home = f"/home/{user}"
    return (
        shlex.join(["sudo", "cp", "-R", "/root/.kube", f"{home}/"])
        + " && "
        + shlex.join(["sudo", "chown", "-R", f"{user}:", f"{home}/.kube"])
    )


def fetch(
    ctx: RunContext,
    dry: bool,
    port: int = DEFAULT_LOCAL_PORT,
    then: Callable[[str | None], None] | None = None,
) -> None:
    """The kubeconfig stage: root's kubeconfig given to the user on node1, fetched to
    .state/<target>/kubeconfig pointing at the tunnel, and every node checked Ready. `then`
    gets the fetched text (None when dry) before that check: the merge, whose context helps
    most when a node is not Ready."""
    user = ctx.target.cluster.user
    local = ctx.state_dir / "kubeconfig"
    if dry:
        say(
            f"would copy /root/.kube to /home/{user}/.kube on {ctx.head}, fetch it to {local} "
            f"with its server at https://127.0.0.1:{port}, and check every node is Ready"
        )
        if then:
            then(None)
        return
    conn = ctx.connect()
    if conn.run("sudo test -f /root/.kube/config", warn=True, hide=True).failed:
        raise StageFailed(
            f"{ctx.head}: no /root/.kube/config; has `fab cluster` installed Kubernetes?"
        )
    conn.run(copy_for_user_command(user), hide=True)
    remote_text = conn.run("cat ~/.kube/config", hide=True).stdout
    try:
        text = rewrite_server(remote_text, port, where=f"{ctx.head}:~/.kube/config")
        states = node_states(conn.run("kubectl get nodes -o json", hide=True).stdout)
    except NodeListError as exc:
        raise StageFailed(str(exc)) from None
    write_text(local, text, "kubeconfig", mode=0o600)  # 0600 from its first byte
    tunnel = shlex.join(tunnel_command(ctx.target, port))
    say(f"kubeconfig: {local}\n  open the tunnel first: {tunnel}")
    say(f"  (or hold it open: fab tunnel --target {ctx.target.name} --port {port})")
    if then:
        then(text)
    problems = not_ready(states, [n.name for n in ctx.target.cluster.nodes])
    if problems:
        raise StageFailed(f"nodes not Ready: {', '.join(problems)}")
    say(f"nodes Ready: {', '.join(sorted(states))}")
