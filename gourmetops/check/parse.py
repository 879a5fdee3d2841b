"""Probe output (probe.py's delimited sections) into facts; no judging here, so the same
code reads a live node and the recorded outputs under tests/fixtures/check/."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from gourmetops.check.probe import MARK

_SECTION = re.compile("^" + re.escape(MARK).replace(r"\{\}", "([a-z0-9_.-]+)") + "$", re.MULTILINE)


def sections(output: str) -> dict[str, str]:
    """{name: text} of every section; a run cut short lacks `end` (callers say so)."""
    parts = _SECTION.split(output)
    return {parts[i]: parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}


@dataclass(frozen=True)
class Listener:
    address: str  # as ss prints it: 0.0.0.0, *, [::], 10.254.1.11, 127.0.0.1
    port: int
    process: str = ""  # "python3 (pid 1234)" when ss could show it (with sudo)


@dataclass(frozen=True)
class Disk:
    path: str
    mount: str
    size_kb: int
    avail_kb: int

    @property
    def free_pct(self) -> float:
        return 100.0 * self.avail_kb / self.size_kb if self.size_kb else 0.0


@dataclass
class PreFacts:
    os: dict[str, str] = field(default_factory=dict)
    kernel: str = ""
    cpus: int = 0
    mem_mb: int = 0
    disks: list[Disk] = field(default_factory=list)
    swaps: list[tuple[str, int]] = field(default_factory=list)  # (device, size kB)
    ip_forward: str = ""
    modules_loaded: set[str] = field(default_factory=set)
    modules_found: set[str] = field(default_factory=set)
    clock: float | None = None
    hostname: str = ""
    resolves: dict[str, str] = field(default_factory=dict)  # name -> IPv4 ("" if none)
    listeners: list[Listener] = field(default_factory=list)
    packages: dict[str, str] = field(default_factory=dict)  # installed-ish -> status
    apt_source: bool = False
    firewalld: dict[str, str] = field(default_factory=dict)
    complete: bool = False


def os_release(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = " ".join(shlex.split(value)) if value else ""
    return out


def listeners(text: str) -> list[Listener]:
    """`ss -ltnH` lines (with -p: a users:(("name",pid=N,fd=M)) column)."""
    found = []
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 4 or cols[0] != "LISTEN":
            continue
        address, _, port = cols[3].rpartition(":")
        users = re.findall(r'\("([^"]+)",pid=(\d+)', line)
        process = ", ".join(f"{name} (pid {pid})" for name, pid in dict.fromkeys(users))
        if port.isdigit():
            found.append(Listener(address.split("%")[0], int(port), process))
    return found


def _kb(text: str, key: str) -> int:
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(m[1]) if m else 0


def pre(output: str) -> PreFacts:
    s = sections(output)
    facts = PreFacts(complete="end" in s)
    facts.os = os_release(s.get("os-release", ""))
    facts.kernel = s.get("kernel", "").strip()
    facts.cpus = int(s["nproc"]) if s.get("nproc", "").strip().isdigit() else 0
    facts.mem_mb = _kb(s.get("meminfo", ""), "MemTotal") // 1024  # as ansible_memtotal_mb
    for line in s.get("df", "").splitlines():
        cols = line.split()
        if len(cols) >= 7 and cols[2].isdigit() and cols[4].isdigit():
            facts.disks.append(Disk(cols[0], cols[-1], int(cols[2]), int(cols[4])))
    for line in s.get("swaps", "").splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 3 and cols[2].isdigit():
            facts.swaps.append((cols[0], int(cols[2])))
    facts.ip_forward = s.get("ip_forward", "").strip()
    facts.modules_loaded = set(s.get("modules-loaded", "").split())
    facts.modules_found = set(s.get("modules-found", "").split())
    try:
        facts.clock = float(s.get("clock", "").strip())
    except ValueError:
        facts.clock = None
    facts.hostname = s.get("hostname", "").strip()
    for line in s.get("resolve", "").splitlines():
        name, _, address = line.partition(" ")
        if name:
            facts.resolves[name] = address.strip()
    facts.listeners = listeners(s.get("listen", ""))
    for line in s.get("packages", "").splitlines():
        name, _, status = line.partition(" ")
        if name:
            facts.packages[name] = status.strip()
    facts.apt_source = s.get("apt-source", "").strip() == "present"
    for line in s.get("firewalld", "").splitlines():
        key, _, value = line.partition("=")
        facts.firewalld[key] = value.strip()
    return facts


@dataclass
class PostFacts:
    units: dict[str, str] = field(default_factory=dict)  # unit -> is-enabled ("" missing)
    pull: tuple[int, str] | None = None  # (rc, last lines)
    nodes: dict[str, str] | None = None  # name -> STATUS column (head only)
    nodes_error: str = ""
    metrics: tuple[int, str] | None = None
    service: str | None = None  # "status=200" or "error=..."
    complete: bool = False


def _rc(text: str) -> tuple[int, str]:
    m = re.search(r"^rc=(\d+)$", text, re.MULTILINE)
    rest = "\n".join(line for line in text.splitlines() if not re.match(r"^rc=\d+$", line))
    return (int(m[1]) if m else 255, rest.strip())


def post(output: str) -> PostFacts:
    s = sections(output)
    facts = PostFacts(complete="end" in s)
    for line in s.get("units", "").splitlines():
        unit, _, state = line.partition(" ")
        facts.units[unit] = state.strip()
    if "pull" in s:
        facts.pull = _rc(s["pull"])
    if "nodes" in s:
        rc, text = _rc(s["nodes"])
        if rc == 0:
            facts.nodes = {c[0]: c[1] for c in (x.split() for x in text.splitlines()) if len(c) > 1}
        else:
            facts.nodes, facts.nodes_error = {}, text.splitlines()[-1] if text else f"rc {rc}"
    if "metrics" in s:
        facts.metrics = _rc(s["metrics"])
    if "service" in s:
        facts.service = s["service"].strip()
    return facts


def json_line(output: str) -> dict:
    """The last line of the reachability script's output, as JSON (ValueError if none)."""
    lines = output.strip().splitlines()
    if not lines:
        raise ValueError("no output")
    return json.loads(lines[-1])
