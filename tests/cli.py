"""`fab` as a user types it, run through Fabric's own Program in this process: the same
argument parsing, collection and error handling as the `fab` script, without paying ~1.5 s
of interpreter start-up per call (the suite runs hundreds of them)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import traceback
from dataclasses import dataclass
from pathlib import Path

from fabric.main import program

from gourmetops import PROJECT_ROOT


@dataclass
class Ran:
    code: int
    out: str  # stdout and stderr, in order

    @property
    def last(self) -> str:
        lines = self.out.strip().splitlines()
        return lines[-1] if lines else ""


def fab(*args: str, env: dict[str, str | None] | None = None) -> Ran:
    """Run `fab ARGS` from the project root with `env` added (None removes a variable);
    an escaping exception is reported as a traceback in the output, exit code 99."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    for key, value in (env or {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    out = io.StringIO()
    code = 0
    try:
        os.chdir(PROJECT_ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                program.run(["fab", *args], exit=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except Exception:  # noqa: BLE001 - a traceback is what the tests look for
                traceback.print_exc(file=out)
                code = 99
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return Ran(code, out.getvalue())


def copy_tracked(dest: Path) -> Path:
    """The project's tracked files copied under `dest` (new files must be `git add`ed), for
    a run that changes group_data or .state without touching this checkout."""
    files = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "ls-files", "-z"], capture_output=True, text=True
    ).stdout.split("\0")
    for rel in filter(None, files):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / rel, dest / rel)
    return dest
