"""The GourmetGram image: built on node1 from a git URL + ref or a directory on the
controller, tagged for node1's registry and pushed; skipped when the registry already has
the source's version (asked over the registry API, not a local marker)."""

from __future__ import annotations

import hashlib
import io
import shlex
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from gourmetops.errors import GourmetopsError
from gourmetops.output import say
from gourmetops.registry.rootfs_image import python_base_command
from gourmetops.registry.service import Credentials, RegistryError, login, login_command, query


class ImageError(GourmetopsError, RuntimeError):
    """The app source or a build step failed; the message names which."""


@dataclass(frozen=True)
class AppSource:
    location: str  # a git URL, or a directory on the controller
    ref: str = "main"

    @property
    def is_dir(self) -> bool:
        return Path(self.location).is_dir()

    def version(self) -> str:
        """What identifies this source's content: the commit of `ref`, or a hash of the
        directory's files (names, modes and bytes)."""
        if self.is_dir:
            digest = hashlib.sha256()
            root = Path(self.location)
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                digest.update(str(path.relative_to(root)).encode() + b"\0")
                digest.update(oct(path.stat().st_mode & 0o111).encode() + b"\0")
                digest.update(path.read_bytes())
            return "dir-" + digest.hexdigest()[:12]
        proc = subprocess.run(
            ["git", "ls-remote", self.location, self.ref],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if proc.returncode != 0:  # git could not ask at all: offline, a wrong URL, ...
            said = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            raise ImageError(
                f"app source {self.location} cannot be read ({said}); check the network and "
                "the URL (app_source), or give --source a local directory of the app"
            )
        if not proc.stdout.strip():  # it answered, without that ref
            raise ImageError(f"app source {self.location} has no ref {self.ref!r}: not found")
        return proc.stdout.split()[0][:12]

    def tarball(self) -> bytes:
        """The directory as a tar.gz, for a node that cannot see the controller's files."""
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w:gz") as tar:
            tar.add(self.location, arcname=".")
        return out.getvalue()


@dataclass(frozen=True)
class ImagePlan:
    """The commands node1 runs for one version, in order."""

    tool: str  # docker or podman
    name: str  # gourmetgram-app
    registry: str  # node1:5000
    version: str
    context: str  # the build directory on node1
    build_args: tuple[str, ...] = ()

    @property
    def local(self) -> str:
        return f"{self.name}:{self.version}"

    def remote(self, tag: str) -> str:
        return f"{self.registry}/{self.name}:{tag}"

    def commands(self) -> list[str]:
        tool = f"sudo {shlex.quote(self.tool)}"
        # Plain pushes: the node trusts the registry through its config (daemon.json, or
        # registries.conf.d for podman), written by the registry stage.
        push = f"{tool} push"
        cmds = [
            f"{tool} build {' '.join(map(shlex.quote, self.build_args))} "
            f"-t {shlex.quote(self.local)} {shlex.quote(self.context)}".replace("  ", " ")
        ]
        for tag in (self.version, "latest"):
            cmds.append(f"{tool} tag {shlex.quote(self.local)} {shlex.quote(self.remote(tag))}")
            cmds.append(f"{push} {shlex.quote(self.remote(tag))}")
        return cmds


class RegistryAbsent(ImageError):
    """Nothing answers at the registry's address (the registry stage has not run yet)."""


def registry_has(
    conn, base_url: str, name: str, tag: str, creds: Credentials | None = None
) -> bool:
    """Whether node1's registry serves `name:tag`, asked over its API from node1."""
    path = f"/v2/{name}/manifests/{tag}"
    try:
        answer = query(conn, base_url, [path], creds)
    except RegistryError as exc:
        raise ImageError(str(exc)) from None
    status, body = answer[path]
    if status == 0:  # the API script's mark for "no HTTP answer at all" (refused, timeout)
        raise RegistryAbsent(f"no registry answers at {base_url} ({body})")
    if status not in (200, 404):
        raise ImageError(f"registry at {base_url} answered {status} for {path}")
    return status == 200


@dataclass(frozen=True)
class Step:
    """One step of a build on node1: what the dry run prints, what the real run does."""

    says: str
    act: Callable[[], None]


def build_steps(
    conn: Any,
    source: AppSource,
    plan: ImagePlan,
    base_image: str | None,
    creds: Credentials | None,
) -> list[Step]:
    """Sources to node1, the base image, the registry login and the tool's commands, in
    order; `plan` already carries the version and the build context on node1."""
    context = plan.context
    steps: list[Step] = []
    if source.is_dir:
        says = f"copy {source.location} to node1:~/{context}"
        steps.append(Step(says, partial(_copy, conn, source, context)))
    else:
        steps.append(
            Step(
                f"git checkout {source.ref} ({plan.version}) of {source.location} in "
                f"node1:~/{context}",
                partial(_checkout, conn, source, context),
            )
        )
    if base_image:
        steps.append(
            Step(
                f"make {base_image} (python3 from node1's root filesystem) if missing",
                partial(_run, conn, python_base_command(plan.tool, base_image)),
            )
        )
    if creds:
        steps.append(
            Step(
                login_command(plan.tool, plan.registry, creds.user) + " (password on stdin)",
                partial(_login, conn, plan, creds),
            )
        )
    steps += [Step(cmd, partial(_run, conn, cmd)) for cmd in plan.commands()]
    return steps


def _copy(conn: Any, source: AppSource, context: str) -> None:
    conn.run(f"rm -rf {shlex.quote(context)} && mkdir -p {shlex.quote(context)}", hide=True)
    conn.put(io.BytesIO(source.tarball()), f"{context}.tar.gz")
    conn.run(
        f"tar -xzf {shlex.quote(context)}.tar.gz -C {shlex.quote(context)} && "
        f"rm {shlex.quote(context)}.tar.gz",
        hide=True,
    )


def _checkout(conn: Any, source: AppSource, context: str) -> None:
    url, ref = shlex.quote(source.location), shlex.quote(source.ref)
    conn.run(f"test -d {context}/.git || git clone -q {url} {context}", hide=True)
    conn.run(
        f"cd {context} && git fetch -q origin {ref} && git checkout -q --detach FETCH_HEAD",
        hide=True,
    )


def _login(conn: Any, plan: ImagePlan, creds: Credentials) -> None:
    try:
        login(conn, plan.tool, plan.registry, creds)
    except RegistryError as exc:
        raise ImageError(str(exc)) from None


def _run(conn: Any, cmd: str) -> None:
    result = conn.run(cmd, warn=True, hide=True)
    if result.failed:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise ImageError(f"node1: `{cmd}` failed ({result.exited}):\n{tail}")


def publish(
    conn: Any,
    source: AppSource,
    template: ImagePlan,
    base_url: str,
    base_image: str | None,
    dry: bool = False,
    echo: Callable[[str], None] = say,
    creds: Credentials | None = None,
) -> str:
    """Build and push `source` on node1 unless the registry has its version already.
    `template` gives tool, name, registry and build args; returns "unchanged", "dry" or
    "built". The dry run prints build_steps' words, the real run acts the same steps. With
    `creds`, node1's container tool logs in (password on stdin) before pushing, and the
    registry check uses them too."""
    version = source.version()
    context = f"gourmetgram-src/{version}" if source.is_dir else "gourmetgram"
    plan = replace(template, version=version, context=context)
    try:
        present = registry_has(conn, base_url, plan.name, version, creds)
    except RegistryAbsent as exc:
        if not dry:
            raise
        # In `fab up --dry` the registry stage only planned the registry, so its absence is
        # the expected state of fresh nodes: plan the build a real run would do.
        echo(f"{exc}: a real run needs the registry stage first (`fab registry`)")
        present = False
    if present:
        echo(f"{plan.remote(version)} is in the registry already: nothing to build")
        return "unchanged"
    steps = build_steps(conn, source, plan, base_image, creds)
    if dry:
        echo(
            f"would build and push {plan.remote(version)} (and :latest); would run on node1:\n  "
            + "\n  ".join(step.says for step in steps)
        )
        return "dry"
    for step in steps:
        echo(f"==> {step.says}")
        step.act()
    if not registry_has(conn, base_url, plan.name, version, creds):
        raise ImageError(f"pushed, yet the registry does not list {plan.remote(version)}")
    return "built"
