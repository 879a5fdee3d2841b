"""The one error base class: every error the project raises on purpose says what is wrong
and what to do, so the tasks turn it into `error: <message>` and an exit code in one place
(tasks.clean_errors) instead of a traceback."""

from __future__ import annotations


class GourmetopsError(Exception):
    """A failure the user can act on; the message names the file, setting, flag or host."""

    exit_code = 1
    prefix = "error: "  # how the message is printed; a stage's failure says it itself


class InputError(GourmetopsError, ValueError):
    """A value given to the project (a file, a setting, a flag) is refused before any host is
    contacted or any file written."""


class StageFailed(GourmetopsError):
    """A stage did not finish on the target; the message names the stage, the nodes and
    why, and is printed as it is (it already says what failed)."""

    prefix = ""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
