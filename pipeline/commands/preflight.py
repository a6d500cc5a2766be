"""Checks made before a run starts, so that a configuration error costs a second, not a Dagster start-up.

The data folder must be a folder Seatwatch can write (it is created on the first run), and every configured
org must answer a cheap call with its key. Nothing is created or written until both pass, so a run refused
here leaves no trace on disk.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from pipeline.config.errors import ConfigurationError
from pipeline.config.settings import Settings

# One quick answer is all a check needs; the run itself keeps the client's patient defaults.
_CHECK_CLIENT = {"max_attempts": 3, "timeout": httpx.Timeout(15.0, connect=5.0), "max_wait": 5.0}


def _fix(path: Path) -> str:
    return "point SEATWATCH_DATA_DIR at a folder you can write"


def check_data_dir(path: Path) -> None:
    """Refuse a data folder that is a file, sits under a file, or cannot be written, without creating it."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "is a file" if existing == path else f"is under {existing}, which is a file"
        raise ConfigurationError(f"The data folder {path} {what}: {_fix(path)}.")
    try:
        # A real write, not os.access: root passes every permission check but not a read-only file system.
        with tempfile.TemporaryDirectory(prefix=".seatwatch-check-", dir=existing):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigurationError(f"Cannot write the data folder {path} ({reason}): {_fix(path)}.") from None


def check_api(settings: Settings) -> None:
    """Call ``GET /v1/orgs/{id}`` for every org: a wrong key, an unknown org or an unreachable API ends here
    in one line (typed errors of :mod:`pipeline.atlassian.errors`)."""
    from pipeline.extract.run import open_sessions

    with open_sessions(settings, client_options=_CHECK_CLIENT):
        pass
