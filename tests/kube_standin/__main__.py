"""Serve the stand-in on its own, e.g. with TLS and a bearer token as an API server on :6443:

    python -m tests.kube_standin --host 127.0.0.1 --port 6443 --cert apiserver.crt \\
        --key apiserver.key --token TOKEN --step 5

`--step S`: every request moves the controllers' modelled time S seconds (tests: the same
outcome on any machine); `--speed X` instead: modelled time runs X times the wall clock,
to watch it live. Neither: `--speed 1`, a cluster's own pace.

It prints its URL once listening; on SIGTERM, one JSON line: the kinds of answer it validated
against the v1.30 schema and the answers that were invalid (a test asserts none).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys

from tests.kube_standin import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.kube_standin")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--token")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--step", type=float)
    pace.add_argument("--speed", type=float)
    args = parser.parse_args()
    tls = (args.cert, args.key) if args.cert and args.key else None
    speed = None if args.step is not None else (args.speed or 1.0)
    server, cluster = serve(args.step or 0.0, speed, True, args.token, tls, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"{'https' if tls else 'http'}://{host}:{port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    finally:
        summary = {"validated": sorted(set(cluster.validated)), "invalid": cluster.invalid}
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
