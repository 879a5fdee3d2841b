"""The user's own kubeconfig, found, locked and written as kubectl does, for
`fab kubeconfig --merge` (the merge itself is kubeconfig_merge.merge, text in, text out).

Which file: kubectl's rule for new entries (client-go's PathOptions.GetDefaultFilename): the
one path in $KUBECONFIG; with several, the first that exists, else the last; without it,
~/.kube/config. kubectl takes `<file>.lock` (O_EXCL) while it writes; so does this, so the
two never overwrite each other's change.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from gourmetops.app.kubeconfig import KubeconfigError
from gourmetops.app.kubeconfig_merge import Merged, context_name, merge, parse_user_config
from gourmetops.bounded import read_capped
from gourmetops.output import say
from gourmetops.safe_write import ensure_dir, refuse_unsafe, write_text

MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024  # about a thousand clusters with their certificates


def destination(env: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """The file kubectl would add a context to (see the module's docstring)."""
    env = os.environ if env is None else env
    paths = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if not paths:
        return (home or Path.home()) / ".kube" / "config"
    if len(paths) > 1:
        paths = [p for p in paths if os.path.exists(p)] or paths[-1:]
    return Path(paths[0])


def read_user_config(path: Path) -> str:
    """The file's text ("" when it does not exist yet), read bounded and never through a
    link; a file that cannot be merged into is refused here, naming it."""
    refuse_unsafe(path, "kubeconfig")
    try:
        data = read_capped(path, MAX_KUBECONFIG_BYTES)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise KubeconfigError(f"{path}: cannot be read: {exc.strerror}; not changed") from None
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        raise KubeconfigError(f"{path}: not UTF-8 text (byte {exc.start}); not changed") from None
    parse_user_config(text, str(path))
    return text


@contextlib.contextmanager
def kubectl_lock(path: Path) -> Iterator[None]:
    """`<path>.lock`, made exclusively as kubectl makes it, held for the read and write."""
    lock = path.with_name(path.name + ".lock")
    ensure_dir(path.parent, "kubeconfig's directory")
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        raise KubeconfigError(
            f"{lock}: exists: kubectl is changing {path}, or was stopped while it did "
            "(remove the lock when no kubectl runs); not changed"
        ) from None
    except OSError as exc:
        raise KubeconfigError(f"{lock}: cannot be made: {exc.strerror}; not changed") from None
    os.close(fd)
    try:
        yield
    finally:
        os.unlink(lock)


def merge_into(path: Path, fetched: str, target: str, port: int) -> Merged:
    """The context `gourmetops-<target>` merged into `path`, written atomically, 0600."""
    with kubectl_lock(path):
        merged = merge(read_user_config(path), fetched, target, port, str(path))
        write_text(path, merged.text, "kubeconfig", mode=0o600)
    return merged


def merge_and_say(path: Path, fetched: str | None, target: str, port: int) -> None:
    """The merge and what it did in two lines (`fetched` None: a dry run, said only)."""
    name = context_name(target)
    server = f"https://127.0.0.1:{port}"
    if fetched is None:
        say(f"would add context {name} (cluster and user {name}, server {server}) to {path}")
        return
    merged = merge_into(path, fetched, target, port)
    done = "replaced" if merged.replaced else "added"
    say(f"{path}: context {name} {done} (cluster and user {name}, server {server})")
    if merged.current_set:
        say(f"  current-context set to {name} ({path} had none)")
    elif merged.current_context != name:
        say(
            f"  current-context kept ({merged.current_context}); next: "
            f"kubectl config use-context {name}"
        )
    else:
        say(f"  current-context kept ({name})")
