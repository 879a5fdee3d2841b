"""The local lab: the cluster model (any number of nodes) brought up on this machine.

`up` is a no-op on a running lab of this checkout and otherwise first removes any stale
lab of ours (from a killed session or another checkout), then builds and boots a fresh one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gourmetops import PROJECT_ROOT
from gourmetops.lab import identity, machines, network, snapshots
from gourmetops.lab.boot import wait_booted
from gourmetops.lab.instance import THIS
from gourmetops.lab.rootfs import ensure_layers, recipe_stamp
from gourmetops.lab.system import LabError, require_root_and_tools, run, say
from gourmetops.safe_write import write_text
from gourmetops.targets import LAB_DIR, Target, lab_target

RUN_DIR = Path(os.environ.get("GOURMETOPS_LAB_RUN", THIS.run_dir))
STATE_FILE = RUN_DIR / "state.json"

__all__ = ["LabError", "LabStatus", "console", "down", "reset", "save", "status", "up"]


@dataclass(frozen=True)
class LabStatus:
    state: str  # "running", "absent", or "stale"
    nodes: dict[str, int | None]  # node name -> nspawn PID while it runs
    detail: str = ""

    def __str__(self) -> str:
        rows = [f"lab: {self.state}" + (f" ({self.detail})" if self.detail else "")]
        rows += [
            f"  {name}: " + (f"running (nspawn pid {pid})" if pid else "not running")
            for name, pid in self.nodes.items()
        ]
        return "\n".join(rows)


def _read_state() -> dict | None:
    try:
        return json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        return None


def status(target: Target | None = None) -> LabStatus:
    target = target or lab_target()
    names = [n.name for n in target.cluster.nodes]
    state = _read_state()
    leftovers = network.our_namespaces() or machines.our_mounts() or machines.find_our_nspawns()
    if state is None:
        return LabStatus(
            "stale" if leftovers else "absent",
            dict.fromkeys(names),
            "leftovers without a state file" if leftovers else "",
        )
    pids = {name: state["nodes"].get(name) for name in names}
    alive = {
        name: pid if pid and machines.is_our_nspawn(pid) else None for name, pid in pids.items()
    }
    if state.get("project") != str(PROJECT_ROOT):
        return LabStatus("stale", alive, f"started by another checkout: {state.get('project')}")
    if not all(alive.values()):
        return LabStatus("stale", alive, "some nodes are not running")
    return LabStatus("running", alive)


def down(target: Target | None = None, orderly: bool = True) -> None:
    """Stop the nodes (by the PIDs the lab recorded or finds booting its trees), unmount,
    delete namespaces and the blackhole route: everything the lab made, nothing else. Not
    `orderly`: the nodes are killed instead of shut down (their upper dirs are not kept)."""
    target = target or lab_target()
    require_root_and_tools()
    state = _read_state() or {"nodes": {}}
    pids = {pid for pid in state["nodes"].values() if pid} | set(machines.find_our_nspawns())
    if pids:
        say(f"stopping {len(pids)} node(s) (nspawn pids {' '.join(map(str, sorted(pids)))})")
    machines.stop_all(sorted(pids), orderly)
    machines.unmount_all()
    machines.remove_cgroups()
    network.destroy()
    assert target.cluster.lab is not None
    network.remove_blackhole(target.cluster.lab)
    STATE_FILE.unlink(missing_ok=True)


def _controller_key() -> str:
    key = LAB_DIR / "id_ed25519"
    if not key.exists():
        LAB_DIR.mkdir(parents=True, exist_ok=True)
        run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "gourmetops-lab-controller",
                "-f",
                str(key),
            ]
        )
    return key.with_suffix(".pub").read_text()


def _write_known_hosts(target: Target, host_keys: dict[str, dict[str, str]]) -> None:
    lines = []
    for node in target.cluster.nodes:
        address = target.public_address if node.jump else node.address
        for kind, blob in host_keys[node.name].items():
            lines.append(f"{node.name},{address} {kind} {blob}")
    write_text(LAB_DIR / "known_hosts", "\n".join(lines) + "\n", "the lab's known_hosts")


def _personalize(target: Target, authorized_key: str) -> None:
    """Each node's host keys and the controller's key; known_hosts written from them. Host
    keys are made per node (an RSA key takes a while): all nodes side by side."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        keys = pool.map(
            lambda n: identity.personalize(n, target.cluster, authorized_key),
            target.cluster.nodes,
        )
        host_keys = dict(zip([n.name for n in target.cluster.nodes], keys, strict=True))
    _write_known_hosts(target, host_keys)


def _boot_all(target: Target, state: dict[str, Any]) -> None:
    """Every node booted (its PID recorded in the state file at once, so a failed start
    can be cleaned), then waited for side by side: as long as the slowest boot, not the sum."""
    for node in target.cluster.nodes:
        state["nodes"][node.name] = machines.boot(node.name)
        write_text(STATE_FILE, json.dumps(state), "the lab's state file")
    target.write_ssh_config()  # once, before the waits (they only read it)
    with ThreadPoolExecutor(max_workers=len(target.cluster.nodes)) as pool:
        waits = [
            pool.submit(wait_booted, target, node.name, state["nodes"][node.name])
            for node in target.cluster.nodes
        ]
        for wait in waits:
            wait.result()


def up(
    target: Target | None = None, snapshot: str | None = None, pristine: Collection[str] = ()
) -> LabStatus:
    """Boot the lab (pristine nodes, or each as `snapshot` saved it but those named in
    `pristine`: nodes added to the cluster after it was saved); no-op when running."""
    target = target or lab_target()
    require_root_and_tools()
    lab = target.cluster.lab
    assert lab is not None
    current = status(target)
    if current.state == "running":
        say("already running; nothing to do")
        return current
    if current.state == "stale":
        say(f"found a stale lab ({current.detail}); cleaning it first")
        down(target)

    started = time.monotonic()
    rootfs, docker_layer = ensure_layers(LAB_DIR)
    authorized_key = _controller_key()
    base = _layers_recipe(rootfs, docker_layer)

    network.check_range_is_free(lab)
    network.add_blackhole(lab)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    state: dict = {
        "project": str(PROJECT_ROOT),
        "range": str(lab.range),
        "snapshot": snapshot,
        "nodes": {},
    }
    write_text(STATE_FILE, json.dumps(state), "the lab's state file")
    try:
        network.create(target.cluster, lab)
        for node in target.cluster.nodes:
            lowers = [docker_layer, rootfs] if node.jump else [rootfs]
            if snapshot and node.name not in pristine:  # read-only, under a fresh upper dir
                lowers.insert(0, snapshots.upper_of(snapshot, node.name, base))
            machines.mount_overlay(node.name, lowers)
        _personalize(target, authorized_key)
        _boot_all(target, state)
    except BaseException:
        say("bringing the lab up failed; removing what was made")
        down(target)
        raise
    say(f"up in {time.monotonic() - started:.1f}s; ssh -F {target.ssh_config_path} node1")
    return status(target)


def console(name: str, command: str, target: Target | None = None) -> str:
    """Run `command` as root on a running node without SSH (e.g. to restart its sshd)."""
    pid = status(target).nodes.get(name)
    if not pid:
        raise LabError(f"{name} is not running")
    proc = machines.console_exec(pid, command)
    if proc.returncode != 0:
        raise LabError(f"{name}: `{command}` failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def reset(target: Target | None = None, snapshot: str | None = None) -> LabStatus:
    """Pristine nodes (fresh upper dirs, the cached rootfs and host keys kept), or the
    nodes as `snapshot` saved them. The running nodes are killed, not shut down: their upper
    dirs are thrown away by the next `up`."""
    down(target, orderly=False)
    return up(target, snapshot)


def save(name: str, target: Target | None = None) -> LabStatus:
    """Keep the running nodes' state as snapshot `name` (stopped for the copy, then booted
    again from it), for `reset(snapshot=name)`, which mounts it as a read-only layer."""
    target = target or lab_target()
    if status(target).state != "running":
        raise LabError("the lab is not running: nothing to save")
    booted_from = (_read_state() or {}).get("snapshot")
    if booted_from:
        # Their upper dirs hold only what changed since that snapshot, a layer over it.
        raise LabError(
            f"the nodes run on snapshot {booted_from!r}; only nodes booted pristine "
            "(`reset()` without a snapshot) can be saved"
        )
    rootfs, docker_layer = ensure_layers(LAB_DIR)
    down(target)
    names = [node.name for node in target.cluster.nodes]
    snapshots.keep(name, names, _layers_recipe(rootfs, docker_layer))
    say(f"saved the nodes as snapshot {name!r}")
    return up(target, name)


def _layers_recipe(*layers: Path) -> str:
    """What the lower layers were built from, as a snapshot's base."""
    return "\n".join(recipe_stamp(layer) for layer in layers)
