"""The tutorial's stress test: siege on node1 against the service, bounded in time, with
samples taken while it runs (pod CPU/memory from the metrics API, replicas)."""

from __future__ import annotations

import re
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gourmetops.siege import SiegeResult, parse

PID_FILE = "/tmp/gourmetops-siege.pid"
_DURATION = re.compile(r"^(?P<n>\d+)\s*(?P<unit>[sSmMhH]?)$")


class LoadTestError(RuntimeError):
    """Bad parameters, or siege could not run; the message says which."""


def duration_seconds(text: str) -> int:
    """ "30s", "2m", "1h" or "45" -> seconds (siege's -t takes 30S, 2M, 1H)."""
    m = _DURATION.match(str(text).strip())
    if not m or int(m["n"]) <= 0:
        raise LoadTestError(f"duration {text!r}: expected a positive number with s, m or h")
    return int(m["n"]) * {"": 1, "s": 1, "m": 60, "h": 3600}[m["unit"].lower()]


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


def ensure_siege(conn, install: bool = True) -> None:
    if conn.run("command -v siege", warn=True, hide=True).ok:
        return
    if not install:
        raise LoadTestError(f"siege is not installed on {conn.original_host}")
    conn.run("sudo apt-get update -q && sudo apt-get install -y -q siege", hide=True)


def run(
    conn,
    load: LoadRun,
    sample: Callable[[], dict[str, Any]] | None = None,
    every: float = 5.0,
    echo: Callable[[str], None] = print,
) -> LoadRun:
    """siege on `conn`'s host; `sample()` called every `every` seconds meanwhile. Ctrl-C
    stops siege on the node too (SIGINT makes it print its summary)."""
    stop = threading.Event()

    def sampler() -> None:
        started = time.monotonic()
        while not stop.wait(every):
            try:
                load.samples.append({"t": round(time.monotonic() - started, 1), **sample()})
            except Exception as exc:  # noqa: BLE001 - a failed sample must not stop the run
                load.samples.append({"t": round(time.monotonic() - started, 1), "error": str(exc)})

    thread = threading.Thread(target=sampler, daemon=True) if sample else None
    echo(f"==> siege -c {load.concurrency} -t {load.duration}S {load.url} on {conn.original_host}")
    if thread:
        thread.start()
    try:
        result = conn.run(load.command(), warn=True, hide=True, in_stream=False)
    except KeyboardInterrupt:
        conn.run(f"kill -INT $(cat {PID_FILE}) 2>/dev/null", warn=True, hide=True)
        raise
    finally:
        stop.set()
        if thread:
            thread.join()
    load.stdout, load.stderr = result.stdout, result.stderr
    load.result = parse(result.stdout, result.stderr)
    return load
