"""The one error base class: every error the project raises on purpose says what is wrong
and what to do, so the tasks turn it into `error: <message>` and an exit code in one place
(tasks.clean_errors) instead of a traceback."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING


class GourmetopsError(Exception):
    """A failure the user can act on; the message names the file, setting, flag or host."""

    exit_code = 1
    prefix = "error: "  # how the message is printed; a stage's failure says it itself


class InputError(GourmetopsError, ValueError):
    """A value given to the project (a file, a setting, a flag) is refused before any host is
    contacted or any file written."""


class TargetError(GourmetopsError, ValueError):
    """A target cannot be built from the given settings; the message says which setting."""


class StageFailed(GourmetopsError):
    """A stage did not finish on the target; the message names the stage, the nodes and
    why, and is printed as it is (it already says what failed)."""

    prefix = ""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# pyinfra's own class where pyinfra is loaded (its CLI loads it before any inventory or
# deploy, and prints its errors as a message, any other exception as a traceback); plain
# Exception elsewhere, so `fab` never imports pyinfra for an error class (0.1 s a task).
# Read at each import (`__getattr__`), so a module takes the one its process has.
_PYINFRA_BASES = {"PyinfraDeployError": "DeployError", "PyinfraInventoryError": "InventoryError"}
if TYPE_CHECKING:
    from pyinfra.api.exceptions import DeployError as PyinfraDeployError  # noqa: F401
    from pyinfra.api.exceptions import InventoryError as PyinfraInventoryError  # noqa: F401


def __getattr__(name: str) -> type[Exception]:
    if name not in _PYINFRA_BASES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    loaded = sys.modules.get("pyinfra.api.exceptions")
    return getattr(loaded, _PYINFRA_BASES[name]) if loaded is not None else Exception
