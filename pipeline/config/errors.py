"""Errors a user can act on.

Every subclass carries a one-line message that names what to fix. The CLI prints ``str(error)`` and exits
with the error's ``exit_code``; nothing else is shown, so the message must stand on its own and must never
contain the API key.
"""

from __future__ import annotations


class SeatwatchError(Exception):
    """Base class for errors that end a command with a clear one-line message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # One line only: a multi-line message would be cut or interleaved in logs and CI output.
        super().__init__(" ".join(message.split()))


class ConfigurationError(SeatwatchError):
    """Bad or missing configuration (environment variables, flags)."""

    exit_code = 2
