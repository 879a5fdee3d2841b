"""Helpers for tests that talk to the lab's nodes the way a user would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gourmetops import PROJECT_ROOT
from gourmetops import lab as labmod
from gourmetops.lab import snapshots
from gourmetops.pyinfra_run import pyinfra_command
from gourmetops.safe_write import write_text
from gourmetops.targets import Target

# The tests' own checks over SSH (thousands of connections in the lab tier) offer only
# curve25519: OpenSSH 9's default post-quantum sntrup761 handshake cost about 0.25 s
# of this machine's CPU per connection through node1 (client, jump and node). What the
# product runs (fab, pyinfra, the tunnels) keeps ssh's defaults.
CHECKS_KEX = "curve25519-sha256"


@dataclass
class Lab:
    target: Target

    def checks_ssh_config(self) -> Path:
        """The target's ssh_config, written again as ssh_argv would (a test's `fab` with
        another key rewrites it), included whole after the checks' key exchange."""
        config = self.target.write_ssh_config()
        path = config.with_name(f"{config.name}.checks")
        text = f"Host *\n    KexAlgorithms {CHECKS_KEX}\nInclude {config}\n"
        if not path.is_file() or path.is_symlink() or path.read_text() != text:
            write_text(path, text, "the tests' ssh_config")
        return path

    def ssh(
        self, node: str, command: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` on `node` over SSH as cc, the way a user of the lab would (the
        checks' key exchange aside); `input` goes to its stdin (a secret there stays out of
        every argv)."""
        # Some Pythons refuse `input` next to any `stdin` keyword, even stdin=None.
        feed: dict = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        proc = subprocess.run(
            ["ssh", "-F", str(self.checks_ssh_config()), "-o", "BatchMode=yes", node, command],
            capture_output=True,
            text=True,
            timeout=120,
            **feed,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"{node}: `{command}` failed ({proc.returncode}): {proc.stderr}")
        return proc

    def put(self, node: str, local: Path, remote: str) -> None:
        """Copy a file to `node` as cc, over the same SSH path."""
        subprocess.run(
            [
                "scp",
                "-q",
                "-F",
                str(self.checks_ssh_config()),
                "-o",
                "BatchMode=yes",
                str(local),
                f"{node}:{remote}",
            ],
            check=True,
            timeout=120,
        )

    def out(self, node: str, command: str) -> str:
        return self.ssh(node, command).stdout.strip()

    def console(self, node: str, command: str) -> str:
        return labmod.console(node, command, self.target)

    def pyinfra(
        self, deploy: str, *extra: str, dry: bool = False, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The pyinfra CLI exactly as `fab prepare` runs it."""
        cmd = pyinfra_command("lab", deploy, dry=dry) + list(extra)
        return subprocess.run(
            cmd,
            cwd=PROJECT_ROOT,
            # pyinfra logs to stderr; one stream keeps its report in order
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=600,
            env=env,
        )

    def fab(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A Fabric task, as a user types it; `env` adds to this process's environment."""
        fab = Path(sys.executable).with_name("fab")
        return subprocess.run(
            [str(fab), *args],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=1800,
            env={**os.environ, **env} if env else None,
        )

    def fab_started(self, *args: str) -> subprocess.Popen[str]:
        """A Fabric task started in the background (stdout and stderr in one stream)."""
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("fab")), *args],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    @contextmanager
    def serving(self, node: str, command: str, port: int, name: str) -> Iterator[None]:
        """`command` started in the background on `node` (as cc), waited for until something
        listens on `port` (at most 30 s, a bound only a server that never listens reaches),
        and stopped afterwards by the PID it was started with."""
        pid = f"/tmp/{name}.pid"
        self.ssh(node, f"setsid nohup {command} </dev/null >/dev/null 2>&1 & echo $! > {pid}")
        self.ssh(
            node,
            f"for i in $(seq 300); do ss -ltnH | grep -q ':{port} ' && exit 0; sleep 0.1; done; "
            "exit 1",
        )
        try:
            yield
        finally:
            self.ssh(node, f"kill $(cat {pid})", check=False)

    @property
    def nodes(self) -> list[str]:
        return [n.name for n in self.target.cluster.nodes]


def results_total(output: str) -> dict[str, str]:
    """The 'Grand total' row of pyinfra's results table: Hosts, Success, Error, No Change."""
    for line in output.splitlines():
        if line.strip().startswith("Grand total"):
            cells = line.split()[2:]
            return dict(zip(["hosts", "success", "error", "no_change"], cells, strict=True))
    raise AssertionError(f"no results table in pyinfra output:\n{output[-3000:]}")


def secret_holders(
    secrets: Iterable[str], texts: dict[str, str], dirs: Iterable[Path]
) -> list[tuple[str, str]]:
    """(where, secret) for each secret found in `texts` (command output, by label) or in any
    file under `dirs` (every file, not only logs)."""
    found = []
    for secret in secrets:
        for where, text in texts.items():
            if secret in text:
                found.append((where, secret))
        for directory in dirs:
            for file in Path(directory).rglob("*"):
                if file.is_file() and secret.encode() in file.read_bytes():
                    found.append((str(file), secret))
    return found


def check_row(out: str, node: str, check: str) -> str:
    """`fab check`'s table line for `node`/`check`, and its fix line when it has one."""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"^  {node}\s+{re.escape(check)}\s+(ok|FAIL|skip)\s", line):
            nxt = lines[i + 1] if i + 1 < len(lines) and "fix: " in lines[i + 1] else ""
            return f"{line}\n{nxt}"
    raise AssertionError(f"no {node} {check} row in:\n{out[-4000:]}")


DOCKER_READY = "docker-ready"


def docker_ready(lab: Lab) -> Lab:
    """Nodes as the cluster stage leaves them for the registry and image stages: pristine,
    then `prepare` (old Docker gone, firewalld off) and the lab's container-engine stand-in
    (dockerd on every node, registry:2 made on node1). Made once per session and saved as
    a lab snapshot, then restored in seconds."""
    if snapshots.exists(DOCKER_READY):
        labmod.reset(lab.target, DOCKER_READY)
        return lab
    labmod.reset(lab.target)
    for step in (lab.fab("prepare"), lab.pyinfra("lab_container_engine")):
        assert step.returncode == 0, step.stdout[-3000:]
    labmod.save(DOCKER_READY, lab.target)
    return lab
