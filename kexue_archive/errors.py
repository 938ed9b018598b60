"""The one exception family users see: a message and a hint, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the CLI prints it as ``error: …`` plus a hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint
