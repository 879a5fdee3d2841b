"""The question before a run that takes something away from a target (`fab reset`, `fab
nodes.remove`): the user types the target's name, or passes --yes; no input refuses, so a
script that forgot --yes stops before anything is contacted."""

from __future__ import annotations

import sys
from typing import TextIO

from gourmetops.errors import InputError

MAX_ANSWER = 256  # a target's name is short; nothing longer is read


def confirm(target: str, yes: bool, warning: str, action: str, stdin: TextIO | None = None) -> None:
    """Go on only when `yes`, or the target's name is typed after `warning`; `action`
    names what was not confirmed ("reset of 'lab'")."""
    if yes:
        return
    stdin = sys.stdin if stdin is None else stdin
    print(f"{warning} Type {target!r} to go on: ", end="", flush=True)
    try:
        answer = stdin.readline(MAX_ANSWER)
    except (OSError, ValueError):  # stdin closed or not readable
        answer = ""
    if not answer:
        print()
        raise InputError(
            f"{action} not confirmed: no input to read; type the target's name "
            "when asked, or pass --yes. Nothing was changed"
        )
    if answer.strip() != target:
        raise InputError(
            f"{action} not confirmed: {answer.strip()[:40]!r} is not the target's "
            "name. Nothing was changed"
        )
