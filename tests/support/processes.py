"""Processes as Linux ``/proc`` shows them, for the tests and benchmarks that kill runs and then look for
what is left of them (tests/runtime/, benchmarks/chaos.py), and the environment such a child runs in."""

from __future__ import annotations

import os
from pathlib import Path


def _stat(stat_file: Path) -> list[str]:
    """The fields after the command name, which is in parentheses and may contain spaces: state, ppid, ..."""
    return stat_file.read_text().rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs: it exists and is not a zombie waiting for its parent."""
    try:
        return _stat(Path(f"/proc/{pid}/stat"))[0] != "Z"
    except OSError:
        return False


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``: its children, their children, ..."""
    children: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(_stat(stat_file)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(stat_file.parent.name))
    found, pending = set(), [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def command_line(pid: int) -> list[str]:
    """The arguments ``pid`` was started with; empty once it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def seatwatch_env(base_url: str, org: str, key: str, data: Path) -> dict[str, str]:
    """The environment of a ``seatwatch`` child process pointed at a simulator org and a data folder:
    this process's environment without any Seatwatch, Atlassian or Dagster-home setting of its own."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ATLASSIAN_", "SEATWATCH_", "DAGSTER_HOME"))
    }
    env.update(
        ATLASSIAN_API_BASE_URL=base_url,
        ATLASSIAN_ORG_ID=org,
        ATLASSIAN_API_KEY=key,
        SEATWATCH_DATA_DIR=str(data),
    )
    return env
