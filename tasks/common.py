"""What every task shares: the help of the common flags and errors turned into a message and
an exit code in one place. A changing run's context, lock and log (`changing`) live in
gourmetops.run, shared with the notebook's API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from fabric import task
from fabric.tasks import Task
from invoke.exceptions import Exit

from gourmetops import flags
from gourmetops.app.kubeconfig import DEFAULT_LOCAL_PORT
from gourmetops.errors import GourmetopsError

TARGET_HELP = {
    "target": "lab or chameleon (default: $GOURMETOPS_TARGET, else lab)",
    "dry": "show what would change, change nothing",
}
KUBE_HELP = {
    **TARGET_HELP,
    "timeout": "seconds to wait for the rollout (default 300)",
    "port": f"local end of the SSH tunnel to the API server (default {DEFAULT_LOCAL_PORT})",
    "dry": "print the objects' diff against the live ones, change nothing",
}


def retries_flag(value: Any, default: int | None) -> int | None:
    """--retries for the playbook tasks: 0 to 10 reruns; not given, `default` (None: the
    target's cluster_retries)."""
    return default if value is None else flags.whole("retries", value, maximum=10)


def clean_errors(body: Callable[..., Any]) -> Callable[..., Any]:
    """Our errors (GourmetopsError) name the file, key or host at fault and the fix: show
    the message and exit code, not a traceback. A task's `--target`, when not given, is
    GOURMETOPS_TARGET's, else the lab (checked here, for every task alike)."""

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if "target" in kwargs:
                from gourmetops.targets import chosen_target  # local: pydantic, at run time

                kwargs["target"] = chosen_target(kwargs["target"])
            return body(*args, **kwargs)
        except GourmetopsError as exc:
            raise Exit(f"{exc.prefix}{exc}", exc.exit_code) from None

    return wrapper


# The only short flags, each with one meaning in every task: invoke's automatic ones took a
# flag's first free letter per task, so -d was --dry in `up` and --duration in `experiment`,
# and -r five different flags. Every other flag is long only.
SHORT_FLAGS = {
    "target": "t",
    "dry": "d",
    "force": "f",
    "out": "o",
    "port": "p",
    "replicas": "r",
    "concurrency": "c",
    "url": "u",
    "when": "w",
    "nodes": "n",
}


class _Task(Task):
    """Fabric's Task with SHORT_FLAGS as its short flags (auto_shortflags off)."""

    def arg_opts(self, name: str, default: Any, taken_names: set[str]) -> dict[str, Any]:
        opts: dict[str, Any] = super().arg_opts(name, default, taken_names)
        short = SHORT_FLAGS.get(opts["names"][0])
        if short:
            opts["names"].append(short)
        return opts


def gtask(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """Fabric's @task (same arguments) for a body whose errors are said as clean_errors says
    them, and whose short flags are SHORT_FLAGS: the one decorator every task here carries."""

    def wrap(body: Callable[..., Any]) -> Any:
        return task(*args, klass=_Task, auto_shortflags=False, **kwargs)(clean_errors(body))

    return wrap
