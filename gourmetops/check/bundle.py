"""`fab logs`: a support bundle. One ssh per node (in parallel, through the jump host like
every stage) prints the journals since boot of the units that matter, each cut to its last
lines and bytes, and /etc/docker/daemon.json; the controller adds its own run logs (which
hold kubespray's playbook logs). Every file is redacted before it is written; ~/.ssh,
kubeconfigs and auth files are never read."""

from __future__ import annotations

import io
import json
import os
import shlex
import tarfile
import time
from pathlib import Path
from typing import Any

from gourmetops.check import parse, redact
from gourmetops.check.probe import MARK
from gourmetops.check.run import ssh_all, ssh_error
from gourmetops.context import RunContext
from gourmetops.errors import GourmetopsError
from gourmetops.safe_write import UnsafePath, atomic, refuse_unsafe
from gourmetops.unreachable import ssh_advice

UNITS = ("docker", "cri-dockerd", "containerd", "kubelet", "docker-registry", "ssh", "sshd")
JOURNAL_LINES = 5000
FILE_BYTES = 512 * 1024  # per file, from its end (the latest lines matter most)
CONTROLLER_LOG_BYTES = 2 * 1024 * 1024
PASSWORD_ENV = "GOURMETOPS_REGISTRY_PASSWORD"


def node_script() -> str:
    """Sections named like the files they become; `sudo -n` where root's view is needed."""
    cap = f"tail -c {FILE_BYTES}"
    lines = ["export PATH=\"$PATH:/usr/sbin:/sbin\" LC_ALL=C",
             f"sec() {{ printf '\\n{MARK.format('%s')}\\n' \"$1\"; }}"]  # fmt: skip
    # A unit is collected once under the first name that reaches it: on Debian sshd.service
    # is an alias of ssh.service (on RHEL it is the unit itself).
    lines.append("seen=' '")
    for unit in UNITS:
        u = shlex.quote(f"{unit}.service")
        lines.append(
            f"if systemctl cat {u} >/dev/null 2>&1; then id=$(systemctl show -p Id --value {u}); "
            f'case "$seen" in *" $id "*) ;; *) seen="$seen$id "; '
            f"sec journal-{unit}; sudo -n journalctl -b -u {u} "
            f"--no-pager -n {JOURNAL_LINES} 2>&1 | {cap};; esac; fi"
        )
    lines += [
        f"sec daemon.json; sudo -n cat /etc/docker/daemon.json 2>&1 | {cap}",
        "if sudo -n docker inspect registry >/dev/null 2>&1; then sec container-registry; "
        f"sudo -n docker logs --tail {JOURNAL_LINES} registry 2>&1 | {cap}; fi",
        "sec systemctl-failed; systemctl --failed --no-pager 2>&1",
        "sec end",
        "exit 0",
    ]
    return "\n".join(lines) + "\n"


def _controller_logs(ctx: RunContext) -> dict[str, Path]:
    logs = ctx.state_dir / "logs"
    # Regular files only: a link planted there would bring its target into the bundle.
    found = sorted(p for p in logs.glob("*.log") if p.is_file() and not p.is_symlink())
    return {f"controller/logs/{p.name}": p for p in found}


def _tail(path: Path, limit: int) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - limit))
        return f.read().decode("utf-8", "replace")


def collect(ctx: RunContext) -> tuple[dict[str, str], list[dict]]:
    """{bundle path: redacted text} and the index entries (source, bytes, what happened)."""
    settings = ctx.settings
    secrets = redact.literal_secrets(os.environ.get(PASSWORD_ENV), [settings.registry_user])
    files: dict[str, str] = {}
    index: list[dict[str, Any]] = []
    nodes = [n.name for n in ctx.target.cluster.nodes]
    replies = ssh_all(ctx.target, {n: ("sh -s", node_script()) for n in nodes})
    for node in nodes:
        reply = replies[node]
        if not reply.reached or "@@gourmetops:end@@" not in reply.out:
            why = ssh_error(reply.err) if not reply.reached else "output cut short"
            fix = ssh_advice(ctx.target, node, reply.err) if not reply.reached else ""
            index.append({"file": None, "node": node, "source": "ssh",
                          "note": f"not collected: {why}", "why": why, "fix": fix})  # fmt: skip
            continue
        for name, text in parse.sections(reply.out).items():
            if name == "end":
                continue
            path = f"{node}/{name}.txt"
            files[path] = redact.redact(text + "\n", secrets)
            index.append({"file": path, "node": node, "source": name, "bytes": len(files[path])})
    for path, local in _controller_logs(ctx).items():
        files[path] = redact.redact(_tail(local, CONTROLLER_LOG_BYTES), secrets)
        index.append({"file": path, "node": "controller", "source": str(local),
                      "bytes": len(files[path])})  # fmt: skip
    return files, index


def _index_md(target: str, index: list[dict]) -> str:
    rows = [f"# Support bundle: target {target}, {time.strftime('%Y-%m-%d %H:%M:%S %z')}", "",
            f"Journals since boot, last {JOURNAL_LINES} lines and {FILE_BYTES} bytes each; "
            "secrets redacted (registry password, tokens, private keys, auth values).", "",
            "| file | node | source | bytes / note |", "|---|---|---|---|"]  # fmt: skip
    for e in index:
        rows.append(f"| {e['file'] or '-'} | {e['node']} | {e['source']} | "
                    f"{e.get('bytes', e.get('note', ''))} |")  # fmt: skip
    return "\n".join(rows) + "\n"


def check_out(out: Path, force: bool = False) -> None:
    """`--out` is refused before any node is asked: a link, a directory, a tracked file, or
    an existing file (replaced only with --force)."""
    refuse_unsafe(out, "--out")
    if out.exists() and not force:
        raise UnsafePath(
            f"--out {out}: already exists; choose a new path, or add --force to replace it"
        )


def write(ctx: RunContext, out: Path | None = None, force: bool = False) -> Path:
    """The bundle as a tar.gz at `out` (default: timestamped under .state/<target>/)."""
    out = out or ctx.state_dir / f"support-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz"
    check_out(out, force)
    files, index = collect(ctx)
    files["index.md"] = _index_md(ctx.name, index)
    files["index.json"] = json.dumps(index, indent=2) + "\n"
    top = out.name.removesuffix(".tar.gz").removesuffix(".tgz")
    with atomic(out, "--out", mode=0o600) as f, tarfile.open(fileobj=f, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
    _something_collected(ctx, index, out)
    return out


def _something_collected(ctx: RunContext, index: list[dict], out: Path) -> None:
    """A bundle with no node's files is no support bundle: said, exit 1 (it is kept: the
    controller's run logs in it may still tell why)."""
    nodes = {n.name for n in ctx.target.cluster.nodes}
    if any(e["file"] and e["node"] in nodes for e in index):
        return
    missed = [e for e in index if e["node"] in nodes]
    first = missed[0] if missed else {"node": ctx.head, "why": "no node", "fix": ""}
    said = f"nothing from {first['node']} ({first['why']})"
    said += f": {first['fix']}" if first.get("fix") else ""
    raise GourmetopsError(
        f"fab logs collected nothing from any node, so {out} holds only the controller's run "
        f"logs; {said}"
    )
