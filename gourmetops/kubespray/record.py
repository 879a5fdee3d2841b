"""What the cluster stage last ran with, kept on node1 after a run that finished: kubespray's
commit, the bytes of the inventory it read (hosts.yaml and group_vars), the playbook and
the node set. `fab up` compares it with what node1 has now and skips kubespray's half-hour
playbook when nothing differs (k0sctl's apply skips hosts already at the wanted state).

    $ cat ~/.local/state/gourmetops/cluster.json          # on node1
    {"kubespray": "5f2f4c2...", "files": {"inventory/mycluster/hosts.yaml": "9b1e..."},
     "playbook": "cluster.yml", "nodes": ["node1", "node2", "node3"],
     "finished": "2026-12-01 19:50 UTC"}
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import asdict, dataclass, field

from gourmetops.kubespray.overrides import INVENTORY

RECORD_DIR = ".local/state/gourmetops"  # under the user's home on node1
RECORD = f"{RECORD_DIR}/cluster.json"
# hosts.yaml as that run read it: `fab nodes.remove` of a node already out of cluster.yaml
# (and so out of the regenerated hosts.yaml) runs remove-node.yml with it, as kubespray asks
KEPT_INVENTORY = f"{RECORD_DIR}/hosts.yaml"
HOSTS = f"{INVENTORY}/hosts.yaml"
MAX_RECORD_BYTES = 65536  # a record of 100 nodes' inventory is a few KB
_FILES, _SAVED = "--gourmetops-files", "--gourmetops-record"


@dataclass(frozen=True)
class Record:
    kubespray: str  # the checkout's commit on node1
    files: dict[str, str]  # path under the checkout -> sha256
    playbook: str
    nodes: tuple[str, ...]
    finished: str = field(default="", compare=False)  # when the run ended (said, not compared)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "nodes": list(self.nodes)}, sort_keys=True)


def read_command(kubespray_dir: str) -> str:
    """One command for node1: the checkout's commit and inventory hashes, then the record."""
    inventory = f"{HOSTS} {INVENTORY}/group_vars"
    return (
        f"(cd {shlex.quote(kubespray_dir)} && git rev-parse HEAD && echo {_FILES} && "
        f"find {inventory} -type f -print0 | sort -z | xargs -0 -r sha256sum) 2>/dev/null; "
        f"echo {_SAVED}; head -c {MAX_RECORD_BYTES + 1} {RECORD} 2>/dev/null; true"
    )


def parse(
    output: str, playbook: str, nodes: tuple[str, ...]
) -> tuple[Record | None, Record | None]:
    """(what node1 has now, what the last finished run recorded), each None when absent."""
    now_part, _, saved_part = output.partition(_SAVED + "\n")
    commit, _, files_part = now_part.partition(_FILES + "\n")
    files = {}
    for line in files_part.splitlines():
        digest, _, path = line.partition("  ")
        if path:
            files[path] = digest
    current = None
    if commit.strip() and HOSTS in files:
        current = Record(commit.strip(), files, playbook, nodes)
    return current, _saved(saved_part)


def _saved(text: str) -> Record | None:
    """The record's JSON, or None when missing, cut off or not ours (then the stage runs)."""
    if not text.strip() or len(text.encode()) > MAX_RECORD_BYTES:
        return None
    try:
        raw = json.loads(text)
        record = Record(
            str(raw["kubespray"]),
            {str(k): str(v) for k, v in dict(raw["files"]).items()},
            str(raw["playbook"]),
            tuple(str(n) for n in raw["nodes"]),
            str(raw.get("finished", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return record


def differences(saved: Record, current: Record) -> list[str]:
    """What changed since the recorded run, each said in a few words."""
    changed = []
    if saved.kubespray != current.kubespray:
        changed.append(f"kubespray {saved.kubespray[:10]} -> {current.kubespray[:10]}")
    if saved.playbook != current.playbook:
        changed.append(f"playbook {saved.playbook} -> {current.playbook}")
    added = [n for n in current.nodes if n not in saved.nodes]
    gone = [n for n in saved.nodes if n not in current.nodes]
    if added or gone:
        changed.append("nodes " + " ".join([f"+{n}" for n in added] + [f"-{n}" for n in gone]))
    paths = sorted(set(saved.files) | set(current.files))
    edited = [p for p in paths if saved.files.get(p) != current.files.get(p)]
    if edited:
        shown = ", ".join(p.removeprefix(f"{INVENTORY}/") for p in edited[:3])
        more = f" and {len(edited) - 3} more" if len(edited) > 3 else ""
        changed.append(f"{shown}{more} edited")
    return changed


def write_command(path: str, text: str, mode: str = "600") -> str:
    """`text` into `path` (under the home, or absolute) through a new temp file beside it,
    renamed into place: a link planted at `path` is replaced, never written through."""
    where = shlex.quote(path.rsplit("/", 1)[0]) if "/" in path else "."
    return (
        f"mkdir -p {where} && t=$(mktemp {where}/.gourmetops.XXXXXX) && "
        f'printf \'%s\' {shlex.quote(text)} > "$t" && chmod {mode} "$t" && '
        f'mv -f "$t" {shlex.quote(path)}'
    )


def _finished(record: Record) -> Record:
    return Record(
        **{**asdict(record), "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    )


def save_command(record: Record, kubespray_dir: str) -> str:
    """Write the record with its finish time, and keep a copy of the hosts.yaml the run
    read (KEPT_INVENTORY), each through a temp file renamed into place."""
    source = f"{shlex.quote(kubespray_dir)}/{HOSTS}"
    return (
        f"mkdir -p {RECORD_DIR} && k=$(mktemp {RECORD_DIR}/.hosts.XXXXXX) && "
        f'cp {source} "$k" && mv -f "$k" {KEPT_INVENTORY} && '
        + write_command(RECORD, _finished(record).to_json() + "\n")
    )


def save_with_inventory_command(record: Record, inventory: str) -> str:
    """After `fab nodes.remove`: the record and the kept hosts.yaml, both without the node."""
    return (
        write_command(KEPT_INVENTORY, inventory)
        + " && "
        + write_command(RECORD, _finished(record).to_json() + "\n")
    )


def inventory_command(kubespray_dir: str) -> str:
    """node1's hosts.yaml, then the kept copy of the last finished run's (each may be absent)."""
    return (
        f"head -c {MAX_RECORD_BYTES + 1} {shlex.quote(kubespray_dir)}/{HOSTS} 2>/dev/null; "
        f"echo {_SAVED}; head -c {MAX_RECORD_BYTES + 1} {KEPT_INVENTORY} 2>/dev/null; true"
    )


def parse_inventories(output: str) -> tuple[str | None, str | None]:
    """(node1's hosts.yaml, the kept one): None when absent, empty or too large to be ours."""
    now, _, kept = output.partition(_SAVED + "\n")
    return _bounded(now), _bounded(kept)


def _bounded(text: str) -> str | None:
    return text if text.strip() and len(text.encode()) <= MAX_RECORD_BYTES else None


def forget_command() -> str:
    """Before a run: a run that stops halfway must not leave the last run's record behind."""
    return f"rm -f {RECORD}"
