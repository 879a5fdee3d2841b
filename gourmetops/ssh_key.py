"""The user's own SSH key (`ssh_key` in chameleon.local.yaml, or GOURMETOPS_SSH_KEY).

Every client here (OpenSSH with `-F`, Fabric, pyinfra) reads only the generated ssh_config,
so an IdentityFile in ~/.ssh/config never reaches them: the key is checked here, once, and
written into that ssh_config for every node.

    >>> identity_lines(key_path("~/.ssh/id_rsa_chameleon", "GOURMETOPS_SSH_KEY", Path.cwd()))
    ['IdentityFile /home/cc/.ssh/id_rsa_chameleon', 'IdentitiesOnly yes']
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

from gourmetops.errors import InputError

SSH_KEY_ENV = "GOURMETOPS_SSH_KEY"
MAX_KEY_PATH = 1024  # far above any real path; a longer value is not a key's path
_SHOWN = 120  # a refused value is shown cut to this, so the message stays one short line
FIX = "give the path of the private key you log in to the nodes with (e.g. ~/.ssh/id_rsa)"


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def _writable_in_ssh_config(value: str) -> str | None:
    """Why `value` cannot stand in ssh_config as one IdentityFile argument, or None. A
    space is quoted; a quote, '%' (a token to ssh and paramiko) or a control character
    (a newline would start a directive of its own) cannot be."""
    if len(value) > MAX_KEY_PATH:
        return f"is longer than {MAX_KEY_PATH} characters"
    if not value.strip():
        return "is empty"
    if not value.isprintable():
        return "holds a newline or control character, which would break ssh_config"
    if '"' in value or "%" in value:
        return "holds '\"' or '%', which ssh_config cannot carry in a path; rename the key"
    return None


def key_path(value: str, where: str, base: Path) -> Path:
    """`value` as the absolute path of an existing private key file: '~' expanded, a
    relative path taken from `base`. `where` names the variable or file it came from."""
    why = _writable_in_ssh_config(value)
    if why:
        raise InputError(f"{where}={_shown(value)} {why}; {FIX}")
    path = Path(os.path.abspath(base / Path(value.strip()).expanduser()))
    try:
        mode = path.stat()
    except OSError as exc:
        raise InputError(f"{where}={_shown(value)}: {path}: {exc.strerror}; {FIX}") from None
    if not stat.S_ISREG(mode.st_mode):
        raise InputError(f"{where}={_shown(value)}: {path} is not a regular file; {FIX}")
    if not os.access(path, os.R_OK):
        raise InputError(f"{where}={_shown(value)}: {path} cannot be read by you; {FIX}")
    if mode.st_uid == os.getuid() and mode.st_mode & 0o077:
        # OpenSSH ignores such a key ("UNPROTECTED PRIVATE KEY FILE") and says so only in
        # its own output; a browser download of the key is often 0644.
        chmod = shlex.join(["chmod", "600", str(path)])
        raise InputError(
            f"{where}={_shown(value)}: {path} is readable by others "
            f"({stat.S_IMODE(mode.st_mode):04o}), so ssh will not use it: {chmod}"
        )
    return path


def identity_lines(key: Path) -> list[str]:
    """The ssh_config directives that make every client offer `key` and only it."""
    text = str(key)
    quoted = f'"{text}"' if any(c.isspace() for c in text) else text
    return [f"IdentityFile {quoted}", "IdentitiesOnly yes"]
