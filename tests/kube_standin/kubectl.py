"""The real kubectl pointed at the stand-in: a runner per build and kubeconfig, with its
cache in the test's own directory. The builds are part of this machine's tools: a missing
one fails the test (a skip would pass off an unrun check)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gourmetops import PROJECT_ROOT

SDK = "/usr/lib/google-cloud-sdk/bin"
KUBECTL_1_30 = f"{SDK}/kubectl.1.30"  # the cluster's minor (kubespray release-2.26)
KUBECTL_1_32 = f"{SDK}/kubectl.1.32"
DISPATCHER = shutil.which("kubectl") or "/usr/bin/kubectl"  # picks a build near the server's

Run = Callable[..., subprocess.CompletedProcess]


def need(kubectl: str) -> None:
    if not Path(kubectl).exists():
        pytest.fail(f"{kubectl} is not installed (the cloud SDK's kubectl and its builds)")


def runner(kubectl: str, config: Path, tmp: Path) -> Run:
    """run(*args): `kubectl args` against `config`, from the project's root, bounded."""
    need(kubectl)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [kubectl, "--kubeconfig", str(config), "--cache-dir", str(tmp / "cache"), *args],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run
