"""The tutorial's stress test: siege on node1 against the service, bounded in time, with
samples taken while it runs (pod CPU/memory from the metrics API, replicas)."""

from __future__ import annotations

import re
import shlex
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gourmetops.app.kube import Kube, pod_metrics
from gourmetops.errors import GourmetopsError
from gourmetops.load.siege import SiegeResult, parse
from gourmetops.output import say

PID_FILE = "/tmp/gourmetops-siege.pid"
MAX_DURATION = 24 * 3600  # a load test of a day at most (siege's -t, the node-side timeout)
SAMPLE_EVERY = 5.0  # seconds between samples during a load run
_DURATION = re.compile(r"(?P<n>[0-9]+) *(?P<unit>[sSmMhH]?)", re.ASCII)


class LoadTestError(GourmetopsError, RuntimeError):
    """Bad parameters, or siege could not run; the message says which."""


def duration_seconds(text: str) -> int:
    """ "30s", "2m", "1h" or "45" -> seconds (siege's -t takes 30S, 2M, 1H)."""
    m = _DURATION.fullmatch(str(text).strip(" "))
    if not m or int(m["n"]) <= 0:
        raise LoadTestError(
            f"--duration {text!r}: must be a whole number of seconds > 0, or with s, m or h "
            "(e.g. 30s, 2m)"
        )
    seconds = int(m["n"]) * {"": 1, "s": 1, "m": 60, "h": 3600}[m["unit"].lower()]
    if seconds > MAX_DURATION:
        raise LoadTestError(f"--duration {text!r}: must be at most {MAX_DURATION}s (24h)")
    return seconds


@dataclass
class LoadRun:
    url: str
    concurrency: int
    duration: int  # seconds
    result: SiegeResult | None = None
    stdout: str = ""
    stderr: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)

    def command(self) -> str:
        if self.concurrency < 1:
            raise LoadTestError(f"concurrency must be >= 1, not {self.concurrency}")
        # A hard bound on node1 too: if the controller goes away, siege still stops.
        limit = self.duration + 60
        return (
            f"echo $$ > {PID_FILE}; exec timeout --signal=INT {limit} "
            f"siege --concurrent={self.concurrency} --time={self.duration}S "
            f"{shlex.quote(self.url)}"
        )


def install_command() -> str:
    return "sudo apt-get update -q && sudo apt-get install -y -q siege"


def ensure_siege(conn, install: bool = True) -> None:
    if conn.run("command -v siege", warn=True, hide=True, in_stream=False).ok:
        return
    if not install:
        raise LoadTestError(f"siege is not installed on {conn.original_host}")
    conn.run(install_command(), hide=True, in_stream=False)


def describe(load: LoadRun, node: str, sampled: str | None, results: str) -> list[str]:
    """What a load run would do (the dry run): checks the parameters as a real run does."""
    command = load.command()
    return [
        f"siege on {node}: {load.concurrency} concurrent users for {load.duration}s "
        f"against {load.url}",
        f"  siege installed on {node} if missing: {install_command()}",
        f"  command on {node}: {command}",
        f"  meanwhile: {sampled}" if sampled else "  no samples (the target runs no Kubernetes)",
        f"  results saved to {results}",
    ]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a load run; siege was stopped on the node and `load` holds its summary."""

    def __init__(self, load: LoadRun) -> None:
        super().__init__(f"interrupted: siege stopped on the node after {load.result}")
        self.load = load


def run(
    conn,
    load: LoadRun,
    sample: Callable[[], dict[str, Any]] | None = None,
    every: float = SAMPLE_EVERY,
    echo: Callable[[str], None] = say,
    stop_remote: Callable[[], None] | None = None,
) -> LoadRun:
    """siege on `conn`'s host; `sample()` called every `every` seconds meanwhile.

    Ctrl-C runs `stop_remote()` (which sends siege SIGINT on the node through a connection
    of its own), siege prints its summary and exits, and Interrupted is raised with it.
    Without a pty, an interrupt would otherwise only reach the local side while siege ran on.
    """
    stop = threading.Event()
    interrupted = threading.Event()

    def sampler(sample: Callable[[], dict[str, Any]]) -> None:
        started = time.monotonic()
        while not stop.wait(every):
            try:
                load.samples.append({"t": round(time.monotonic() - started, 1), **sample()})
            except Exception as exc:  # noqa: BLE001 - a failed sample must not stop the run
                load.samples.append({"t": round(time.monotonic() - started, 1), "error": str(exc)})

    def on_interrupt(signum: int, frame: object) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt  # a second Ctrl-C: stop waiting
        interrupted.set()
        echo("interrupted: stopping siege on the node")
        if stop_remote:
            threading.Thread(target=stop_remote, daemon=True).start()

    thread = threading.Thread(target=sampler, args=(sample,), daemon=True) if sample else None
    echo(f"==> siege -c {load.concurrency} -t {load.duration}S {load.url} on {conn.original_host}")
    if thread:
        thread.start()
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        result = conn.run(load.command(), warn=True, hide=True, in_stream=False)
    finally:
        signal.signal(signal.SIGINT, previous)
        stop.set()
        if thread:
            thread.join()
    load.stdout, load.stderr = result.stdout, result.stderr
    load.result = parse(result.stdout, result.stderr)
    if interrupted.is_set():
        raise Interrupted(load)
    return load


def stop_command() -> str:
    """What stops a running siege on its node (by the PID the run recorded)."""
    return f"kill -INT $(cat {PID_FILE}) 2>/dev/null || true"


def sampler(kube: Kube, objects: dict[str, dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Ready replicas and per-pod CPU/memory now, from the API and the metrics API."""
    ns = objects["namespace"]["metadata"]["name"]

    def sample() -> dict[str, Any]:
        dep = kube.live(objects["deployment"]) or {}
        return {
            "replicas": dep.get("status", {}).get("readyReplicas", 0),
            "pods": pod_metrics(kube, ns),
        }

    return sample
