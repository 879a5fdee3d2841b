"""The lab's nodes: an overlay per node over the shared rootfs, booted by systemd-nspawn
with real systemd inside the node's network namespace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from gourmetops.lab.instance import THIS
from gourmetops.lab.network import node_ns
from gourmetops.lab.system import LabError, run, say
from gourmetops.waiting import wait_until

DATA_DIR = Path(os.environ.get("GOURMETOPS_LAB_DATA", THIS.data_dir))
STOP_TIMEOUT = 20.0


def node_dir(name: str) -> Path:
    return DATA_DIR / name


def merged_dir(name: str) -> Path:
    return node_dir(name) / "merged"


def mount_overlay(name: str, lowers: list[Path]) -> Path:
    """A fresh upper dir each time over `lowers` (topmost first): the node starts as they
    are, pristine or as a snapshot saved it."""
    base = node_dir(name)
    for sub in ("upper", "work"):
        shutil.rmtree(base / sub, ignore_errors=True)
        (base / sub).mkdir(parents=True)
    merged = merged_dir(name)
    merged.mkdir(parents=True, exist_ok=True)
    lowerdir = ":".join(str(p) for p in lowers)
    run(
        [
            "mount",
            "-t",
            "overlay",
            f"gourmetops-lab-{name}",
            "-o",
            # redirect_dir: a directory from a lower layer can be renamed (dockerd renames
            # its own under /var/lib/docker at start), instead of failing with EXDEV.
            f"lowerdir={lowerdir},upperdir={base / 'upper'},workdir={base / 'work'},"
            "redirect_dir=on",
            str(merged),
        ]
    )
    return merged


def copy_tree(src: Path, dest: Path) -> None:
    """A whole tree as is, into `dest` (made anew): owners, modes, xattrs and overlayfs
    whiteouts (cp -a, as root)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    run(["cp", "-a", "--reflink=auto", str(src), str(dest)], quiet=True)


def our_mounts() -> list[Path]:
    """Mount points under DATA_DIR, deepest first so nested ones go before their parents."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == str(DATA_DIR) or point.startswith(f"{DATA_DIR}/"):
            points.append(Path(point))
    return sorted(points, key=lambda p: len(p.parts), reverse=True)


def unmount_all() -> None:
    for point in our_mounts():
        say(f"unmounting {point}")
        if run(["umount", str(point)], check=False, quiet=True).returncode != 0:
            run(["umount", "--lazy", str(point)], check=False)


CGROUP_GROUP = THIS.cgroup


def _cgroup_roots() -> list[Path]:
    """The hierarchies systemd inside a node uses: cgroup2, and v1's name=systemd."""
    roots = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        before, after = line.split(" - ", 1)
        fstype, _source, options = after.split()[:3]
        if fstype == "cgroup2" or (fstype == "cgroup" and "name=systemd" in options.split(",")):
            roots.append(Path(before.split()[4]))
    return roots


def node_cgroups(name: str) -> list[Path]:
    return [root / CGROUP_GROUP / name for root in _cgroup_roots()]


def memory_mib(name: str) -> float:
    """What a running node's processes take (the sum of their PSS: each shared page counted
    once across the nodes), read from its cgroup in the name=systemd or cgroup2 hierarchy."""
    pids: set[str] = set()
    for cgroup in node_cgroups(name):
        for directory, _dirs, _files in os.walk(cgroup):  # a session's cgroup may go meanwhile
            try:
                pids.update(Path(directory, "cgroup.procs").read_text().split())
            except OSError:
                continue
    total_kib = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue  # exited meanwhile
        pss = [line.split()[1] for line in rollup.splitlines() if line.startswith("Pss:")]
        total_kib += sum(map(int, pss))
    return total_kib / 1024


def remove_cgroups() -> None:
    """The lab's (empty, once its nodes stopped) cgroups, deepest first."""
    for root in _cgroup_roots():
        top = root / CGROUP_GROUP
        if not top.is_dir():
            continue
        dirs = sorted((d for d in top.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts))
        for d in [*dirs, top]:
            try:
                d.rmdir()
            except OSError as exc:
                say(f"cannot remove cgroup {d}: {exc}")


def boot(name: str) -> int:
    """Boot the node in a cgroup of its own. Without one, nspawn puts every node's
    systemd in the same `payload` cgroup of its parent's, where they trip over each
    other's units (seen as services failing with 219/CGROUP)."""
    cgroups = node_cgroups(name)
    for cgroup in cgroups:
        cgroup.mkdir(parents=True, exist_ok=True)
    enter = "".join(f"echo $$ > {cgroup}/cgroup.procs && " for cgroup in cgroups)
    log = open(node_dir(name) / "console.log", "w")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [
            "/bin/sh",
            "-c",
            f'{enter}exec systemd-nspawn "$@"',
            "nspawn",
            "--boot",
            f"--directory={merged_dir(name)}",
            f"--machine={name}",
            "--register=no",
            "--keep-unit",
            f"--network-namespace-path=/run/netns/{node_ns(name)}",
            "--capability=CAP_NET_ADMIN,CAP_NET_RAW",
            # dockerd's runtime (crun) asks for a session keyring per container
            "--system-call-filter=add_key keyctl request_key",
            "--console=passive",
        ],
        # crun writes /proc/sys entries of the container it starts (read-only otherwise)
        env={**os.environ, "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "1"},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own session: the node outlives the `fab` process that started it.
        start_new_session=True,
    )
    log.close()
    return proc.pid


def is_our_nspawn(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (
        bool(cmdline)
        and cmdline[0].endswith(b"systemd-nspawn")
        and any(arg.startswith(f"--directory={DATA_DIR}/".encode()) for arg in cmdline)
    )


def find_our_nspawns() -> list[int]:
    """nspawn processes booting a tree under DATA_DIR: only the lab starts those."""
    return [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and is_our_nspawn(int(p.name))
    ]


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _is_node_init(pid: int) -> bool:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        other_mounts = os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    except OSError:
        return False
    return comm == "systemd" and other_mounts


def console_exec(
    nspawn_pid: int, command: str, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a shell command inside a node as root without SSH, as on its console
    (nsenter into the namespaces of the node's init)."""
    init = [pid for pid in _children(nspawn_pid) if _is_node_init(pid)]
    if not init:
        # Before nspawn has exec'd the node's systemd its child still shares our namespaces;
        # entering it would run the command on this host.
        raise LabError(f"nspawn {nspawn_pid} has no running node init yet")
    return subprocess.run(
        ["nsenter", f"--target={init[0]}", "--all", "/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stop(pid: int) -> None:
    """SIGTERM asks nspawn for an orderly shutdown of the node; kill it if that hangs."""
    stop_all([pid])


def _running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_all(pids: list[int], orderly: bool = True) -> None:
    """Every node shut down at once (each takes a second or two: one after another that was
    most of a lab reset, and 20 s at twelve nodes); those that hang past STOP_TIMEOUT are
    killed with their node's init. Not `orderly`: killed at once, for nodes whose upper dirs
    are thrown away next (a reset), where stopping every unit was CPU spent for nothing."""
    ours = [pid for pid in pids if is_our_nspawn(pid)]
    inits = {pid: _children(pid) for pid in ours}
    if orderly:
        for pid in ours:
            os.kill(pid, signal.SIGTERM)
        wait_until(lambda: None if any(is_our_nspawn(p) for p in ours) else True, STOP_TIMEOUT, 0.1)
    for pid in ours:
        if is_our_nspawn(pid):
            if orderly:
                say(f"nspawn {pid} did not stop in {STOP_TIMEOUT:.0f}s; killing it and its init")
            for child in inits[pid]:  # PID 1 of the node's PID namespace: killing it ends them all
                os.kill(child, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
    gone = [pid for pids_ in inits.values() for pid in pids_] + ours
    if wait_until(lambda: None if any(map(_running, gone)) else True, STOP_TIMEOUT, 0.05) is None:
        raise LabError(f"nodes still running {STOP_TIMEOUT:.0f}s after SIGKILL: pids {gone}")
