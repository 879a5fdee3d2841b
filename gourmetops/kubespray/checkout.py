"""kubespray on the controller: a checkout at the configured source and ref (read to render
artifacts and to know the requirements), and the wheels an offline node1 installs from."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gourmetops import STATE_DIR
from gourmetops.errors import GourmetopsError, PyinfraDeployError
from gourmetops.output import say
from gourmetops.safe_write import refuse_unsafe, write_text

EXTRA_REQUIREMENTS = ["ruamel.yaml"]  # the tutorial installs it beside requirements.txt


class SourceError(GourmetopsError, RuntimeError, PyinfraDeployError):
    """kubespray's source or the wheels for it cannot be had; the message says which.

    In pyinfra's process a DeployError, which its CLI prints as a message, not a traceback."""


def _git(*args: str) -> str:
    proc = subprocess.run(["git", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SourceError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def _checkout_dir(source: str, ref: str) -> Path:
    return STATE_DIR / "kubespray" / hashlib.sha256(f"{source}\0{ref}".encode()).hexdigest()[:12]


@contextmanager
def _held(cache: Path) -> Iterator[None]:
    """An exclusive lock on `cache` (a clone or wheel directory under .state/): two runs
    at once (two targets, the notebook beside `fab`) would clone or fetch into it together
    and one would find FETCH_HEAD gone. The lock file is never followed if it is a link."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{cache}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits for the other run's clone or fetch
        yield
    finally:
        os.close(fd)


def is_local(source: str) -> bool:
    """A bundle, directory or file:// URL on the controller: cloning it contacts no one."""
    return source.startswith("file://") or Path(source).exists()


def dry_run_checkout(source: str, ref: str) -> Path | None:
    """What a dry run may read without contacting anything: a local source cloned, else the
    controller's cached clone as it is (not fetched), else None (the caller says what a
    real run would fetch)."""
    if is_local(source):
        return controller_checkout(source, ref)
    dest = _checkout_dir(source, ref)
    if (dest / ".git").is_dir():
        say(f"dry run: using the cached {ref} of {source} (not fetched)", err=True)
        return dest
    return None


def local_checkout(source: str, ref: str, task: str, hint: str = "") -> Path:
    """For a task that only reads (`fab check`, `fab render`): kubespray as the controller
    has it, never fetched; when it has none, one line says what a real run would fetch."""
    checkout = dry_run_checkout(source, ref)
    if checkout is None:
        raise SourceError(
            f"{task} fetches nothing, and kubespray {ref} of {source} is not on the controller: "
            f"a real run (`fab kubespray` or `fab up`) clones it first{hint}"
        )
    return checkout


def controller_checkout(source: str, ref: str) -> Path:
    """A clone of `source` at `ref` under .state/kubespray/, fetched again on every call so
    a moved branch is seen; cheap for the lab's bundle, one fetch for the upstream repo."""
    dest = _checkout_dir(source, ref)
    with _held(dest):
        return _clone_or_fetch(source, ref, dest)


def _clone_or_fetch(source: str, ref: str, dest: Path) -> Path:
    if not (dest / ".git").is_dir():
        try:
            _git("clone", "--quiet", "--branch", ref, source, str(dest))
        except SourceError:
            # git's own words ("Remote branch ... not found in upstream origin") name
            # neither the setting nor the fix; exit code 2 is "no such ref" for sure.
            probe = subprocess.run(
                ["git", "ls-remote", "--exit-code", source, ref], capture_output=True
            )
            if probe.returncode == 2:
                raise SourceError(
                    f"kubespray_ref {ref!r} is not a branch or tag of {source}; "
                    "set kubespray_ref in group_data to one that exists"
                ) from None
            raise
    else:
        try:
            _git("-C", str(dest), "fetch", "--quiet", "origin", ref)
        except SourceError as exc:
            # Offline with a clone at hand: reviewing a plan beats failing; say so.
            say(f"warning: using the cached {ref} of {source} ({exc})", err=True)
            return dest
        _git("-C", str(dest), "checkout", "--quiet", "--detach", "FETCH_HEAD")
    return dest


def head_commit(checkout: Path) -> str:
    """The commit the controller's checkout holds (what a bundle of it carries to node1)."""
    return _git("-C", str(checkout), "rev-parse", "HEAD")


def carried_bundle(source: str, checkout: Path, ref: str) -> Path:
    """What an offline node1 clones kubespray from: `source` itself when it is a bundle
    file, else a bundle of the controller's `checkout` holding `ref` (a branch or tag, so
    node1's `git clone --branch` finds it). Kept under .state/ by commit: made once, and
    the copy on node1 changes only when the ref moves (git makes no byte-identical bundles)."""
    if Path(source).is_file():
        return Path(source)
    commit = head_commit(checkout)
    key = hashlib.sha256(f"{ref}\0{commit}".encode()).hexdigest()[:16]
    dest = STATE_DIR / "kubespray" / f"carried-{key}.bundle"
    if dest.is_file():
        return dest
    if _git("-C", str(checkout), "tag", "--list", ref) == ref:
        name = f"refs/tags/{ref}"
    else:
        name = f"refs/heads/{ref}"
        _git("-C", str(checkout), "update-ref", name, "HEAD")
    refuse_unsafe(dest, "kubespray's bundle for node1")
    # a temp name of its own (several runs may carry the same ref), renamed into place
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    os.unlink(tmp)  # git bundle create makes the file itself
    try:
        _git("-C", str(checkout), "bundle", "create", "--quiet", tmp, name)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dest


def requirements(checkout: Path) -> list[str]:
    """kubespray's pinned requirements plus what the tutorial adds, comments dropped."""
    path = checkout / "requirements.txt"
    if not path.exists():
        raise SourceError(f"{path} not found: is {checkout} a kubespray checkout?")
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line] + EXTRA_REQUIREMENTS


@dataclass(frozen=True)
class NodePython:
    """What decides which wheels a node can install."""

    major: int
    minor: int
    machine: str  # e.g. x86_64
    glibc: tuple[int, int]

    @property
    def tag(self) -> str:
        return f"cp{self.major}{self.minor}-{self.machine}-glibc{self.glibc[0]}.{self.glibc[1]}"

    def pip_download_args(self) -> list[str]:
        """Tags for `pip download` so the wheels fit the node, not the controller."""
        platforms = [
            f"manylinux_{self.glibc[0]}_{m}_{self.machine}" for m in range(5, self.glibc[1] + 1)
        ]
        platforms += [f"manylinux{v}_{self.machine}" for v in ("2014", "2010", "1")]
        args = [
            "--only-binary=:all:",
            f"--python-version={self.major}.{self.minor}",
            "--implementation=cp",
        ]
        for abi in (f"cp{self.major}{self.minor}", "abi3", "none"):
            args.append(f"--abi={abi}")
        for platform in platforms + ["any"]:
            args.append(f"--platform={platform}")
        return args


def _wheels_dir(reqs: list[str], node: NodePython) -> Path:
    key = hashlib.sha256(json.dumps([reqs, node.tag]).encode()).hexdigest()[:12]
    return STATE_DIR / "wheels" / f"{node.tag}-{key}"


def cached_wheels(reqs: list[str], node: NodePython) -> Path | None:
    """The wheels if already downloaded (a dry run downloads nothing)."""
    dest = _wheels_dir(reqs, node)
    return dest if (dest / ".complete").exists() else None


def download_wheels(reqs: list[str], node: NodePython) -> Path:
    """Wheels for `reqs` fitting `node`, in a cache dir keyed by both (downloaded once)."""
    dest = _wheels_dir(reqs, node)
    with _held(dest):
        return _download(reqs, node, dest)


def _download(reqs: list[str], node: NodePython, dest: Path) -> Path:
    done = dest / ".complete"
    if done.exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    say(f"downloading wheels for {node.tag} into {dest}", err=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--dest",
            str(dest),
            *node.pip_download_args(),
            *reqs,
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SourceError(f"pip download for {node.tag} failed: {proc.stderr.strip()[-2000:]}")
    write_text(done, "\n".join(reqs) + "\n", "the wheels' completion mark")
    return dest
