"""One run at a time per data folder: an exclusive ``flock`` on ``<data folder>/.seatwatch-run.lock``.

The kernel releases the lock when the holding process exits, however it exits (``kill -9``, OOM, reboot),
so a dead run can never block the next one, and a run that holds the lock knows that every other run of
this data folder recorded as in progress is dead. A second run waits (one line saying for which run and
since when, then a sleep between tries: no CPU is burnt) and gives up with exit 1 after
``SEATWATCH_WAIT_TIMEOUT_SECONDS`` (default 1800; 0 refuses at once).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pipeline.config.errors import SeatwatchError

LOCK_NAME = ".seatwatch-run.lock"
_POLL_SECONDS = 1.0


class WarehouseBusyError(SeatwatchError):
    """Another live run kept the data folder for longer than the wait timeout."""


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    """Who holds the lock, from what the holder wrote into the file."""
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another seatwatch run"
    since = info.get("started", "?")
    who = f"pid {info.get('pid', '?')} on {info.get('host', '?')}"
    return f"seatwatch {info.get('command', 'run')} ({who}, since {since})"


def wait_for_holder(
    holder: str,
    is_free: Callable[[], bool],
    *,
    data_dir: Path,
    timeout_seconds: float,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = _POLL_SECONDS,
) -> None:
    """Wait until ``is_free()`` while ``holder`` keeps ``data_dir``: one line saying so, a sleep between
    tries, :class:`WarehouseBusyError` at once when ``timeout_seconds`` is 0 or once it has passed.

    The one waiting rule for both things a run can find in its way: this lock, and (in
    ``pipeline.commands.guard``) a live run launched from the Dagster UI.
    """
    if timeout_seconds <= 0:
        raise WarehouseBusyError(
            f"{holder} is using {data_dir}; run again when it has finished "
            "(or set SEATWATCH_WAIT_TIMEOUT_SECONDS to wait for it)."
        )
    say(f"Waiting for {holder} to finish with {data_dir} (at most {timeout_seconds:.0f} s)...")
    deadline = time.monotonic() + timeout_seconds
    while not is_free():
        if time.monotonic() >= deadline:
            raise WarehouseBusyError(
                f"Gave up after {timeout_seconds:.0f} s: {holder} still uses {data_dir}. Run again later, "
                "or raise SEATWATCH_WAIT_TIMEOUT_SECONDS."
            )
        sleep(poll_seconds)


@contextmanager
def data_folder_lock(
    data_dir: Path,
    *,
    timeout_seconds: float,
    command: str = "run",
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the data folder for the duration of the block, waiting at most ``timeout_seconds`` for it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_NAME
    with path.open("a+") as handle:
        if not _try_lock(handle):
            wait_for_holder(
                _holder(path),
                lambda: _try_lock(handle),
                data_dir=data_dir,
                timeout_seconds=timeout_seconds,
                say=say,
                sleep=sleep,
            )
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "command": command,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
                }
            )
        )
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
