"""siege's end-of-run summary, read into numbers.

siege 4.0.x prints it as JSON on stdout when `json_output = true` (the default in the
~/.siege/siege.conf 4.0.7 writes on first run); with `json_output = false`, and by default
in 4.1.x (which also prints one verbose line per request on stdout), it is the classic
"Transactions: N hits" block on stderr. Both are read. Under overload siege prints
`[error] socket: unable to connect ... Connection refused` lines and keeps going; they
are counted, not treated as a failure of the tool.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from gourmetops.errors import GourmetopsError

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TEXT = {
    "Transactions": "transactions",
    "Availability": "availability",
    "Elapsed time": "elapsed_time",
    "Data transferred": "data_transferred",
    "Response time": "response_time",
    "Transaction rate": "transaction_rate",
    "Throughput": "throughput",
    "Concurrency": "concurrency",
    "Successful transactions": "successful_transactions",
    "Failed transactions": "failed_transactions",
    "Longest transaction": "longest_transaction",
    "Shortest transaction": "shortest_transaction",
}
_TEXT_LINE = re.compile(r"^(?P<key>[A-Z][a-z ]+):\s+(?P<value>[-0-9.]+)")


class SiegeError(GourmetopsError, ValueError):
    """No summary in the output: siege did not finish (killed, bad URL, not installed)."""


@dataclass(frozen=True)
class SiegeResult:
    transactions: int
    availability: float  # percent
    elapsed_time: float  # seconds
    data_transferred: float  # MB
    response_time: float  # seconds, mean
    transaction_rate: float  # per second
    throughput: float  # MB/s
    concurrency: float
    successful_transactions: int
    failed_transactions: int
    longest_transaction: float
    shortest_transaction: float
    connection_refused: int = 0  # "Connection refused" error lines
    other_errors: int = 0  # other "[error]" lines

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _numbers(raw: dict[str, Any]) -> dict[str, Any]:
    ints = {"transactions", "successful_transactions", "failed_transactions"}
    missing = [k for k in _TEXT.values() if k not in raw]
    if missing:
        raise SiegeError(f"siege summary without {', '.join(missing)}")
    return {k: int(float(raw[k])) if k in ints else float(raw[k]) for k in _TEXT.values()}


def parse(stdout: str, stderr: str = "") -> SiegeResult:
    """The summary from siege's output (JSON or classic), error lines counted."""
    text = _ANSI.sub("", stdout + "\n" + stderr)
    errors = [line for line in text.splitlines() if line.startswith("[error]")]
    refused = sum(1 for line in errors if "Connection refused" in line)
    # The JSON summary starts on a line of its own; verbose request lines never do.
    start = next(
        (m.start() for m in re.finditer(r"^\{", stdout, re.M)),
        -1,
    )
    raw: dict[str, Any] | None = None
    if start >= 0:
        try:
            raw = json.loads(stdout[start : stdout.rindex("}") + 1])
        except ValueError:
            raw = None
    if raw is None:
        found = {}
        for line in text.splitlines():
            if (m := _TEXT_LINE.match(line.strip())) and m["key"] in _TEXT:
                found[_TEXT[m["key"]]] = m["value"]
        raw = found or None
    if not raw:
        raise SiegeError("no siege summary in the output (did the run finish?)")
    return SiegeResult(
        **_numbers(raw), connection_refused=refused, other_errors=len(errors) - refused
    )
