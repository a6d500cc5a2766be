"""Errors a user can act on.

Every subclass carries a one-line message that names what to fix. The CLI prints ``str(error)`` and exits
with the error's ``exit_code``; nothing else is shown, so the message must stand on its own and must never
contain the API key. Errors that arrive wrapped (by dlt, dagster-dbt) or only as DuckDB's text (a locked
file) are found with :func:`user_error`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path


class SeatwatchError(Exception):
    """Base class for errors that end a command with a clear one-line message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # One line only: a multi-line message would be cut or interleaved in logs and CI output.
        super().__init__(" ".join(message.split()))


class ConfigurationError(SeatwatchError):
    """Bad or missing configuration (environment variables, flags)."""

    exit_code = 2


class WarehousePublishError(SeatwatchError):
    """The team's warehouse (``SEATWATCH_PUBLISH_DESTINATION``) is down or refused the published marts."""


# DuckDB: 'Could not set lock on file "/x/warehouse.duckdb": Conflicting lock is held in /usr/bin/python3
# (PID 4036) by user root. See also …' (the holder part is missing on some platforms).
_LOCK_RE = re.compile(
    r'Could not set lock on file "(?P<path>[^"]+)"'
    r"(?:: Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\))?"
)


class WarehouseLockedError(SeatwatchError):
    """Another process has a DuckDB file open; DuckDB allows one writer and no reader beside it."""

    def __init__(self, path: str, pid: str | None = None, program: str | None = None) -> None:
        holder = f"process {pid} ({Path(program).name})" if pid and program else "another process"
        super().__init__(
            f"{path} is locked by {holder}: close that program (readers and BI tools should open "
            "seatwatch.duckdb, the published copy, not the warehouse), then run again."
        )


def lock_error_in(text: str) -> WarehouseLockedError | None:
    """The lock error DuckDB's text describes, if it describes one."""
    match = _LOCK_RE.search(text)
    if match is None:
        return None
    return WarehouseLockedError(match["path"], match["pid"], match["program"])


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "exception", None), current.__cause__, current.__context__]


def user_error(error: BaseException) -> SeatwatchError | None:
    """Our one-line error inside ``error`` (dlt and dagster-dbt wrap what resources raise), or the lock
    error DuckDB described, or None."""
    chain = list(_chain(error))
    for current in chain:
        if isinstance(current, SeatwatchError):
            return current
    for current in chain:
        locked = lock_error_in(str(current))
        if locked is not None:
            return locked
    return None


def unexpected_error_line(error: BaseException) -> str:
    """One line for an error nobody gave a message: what the system said, and where to look."""
    said = " ".join(str(error).split()) or "no details"
    if isinstance(error, OSError) and error.strerror:
        said = f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return f"unexpected failure ({said}); run again with --verbose for the details and report them."
