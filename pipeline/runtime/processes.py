"""Is a process alive, and is it still the one we recorded? (Linux: ``/proc``; elsewhere pid only.)"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def host() -> str:
    return socket.gethostname()


def start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" when unknown): with the pid, an identity
    that survives pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Field 22, counted after the command name, which is in parentheses and may contain spaces.
    return stat.rsplit(")", 1)[1].split()[19]


def is_alive(pid: int, ticks: str = "") -> bool:
    """Whether ``pid`` runs on this host and (when ``ticks`` is known) is the same process as recorded."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    if ticks:
        current = start_ticks(pid)
        return not current or current == ticks
    return True
