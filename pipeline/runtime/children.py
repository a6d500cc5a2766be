"""Child processes (dbt) that die with the run and see only the environment they need.

* Parent-death signal: on Linux a child started with ``prctl(PR_SET_DEATHSIG, SIGKILL)`` is killed by the
  kernel when the process that started it dies, ``kill -9`` included, so no dbt is left writing to the
  warehouse after its run is gone. (Elsewhere the child gets its own process group only.)
* Environment: an allow-list. dbt needs its own variables, the warehouse path, locale, paths and Python's
  variables; never the API key (``ATLASSIAN_API_KEY``, ``ATLASSIAN_API_KEY__<org>``), the team warehouse's
  credentials (``DESTINATION__*``, ``DAGSTER_PG_URL``) or anything else.

dagster-dbt starts dbt with ``subprocess.Popen`` and offers no hook for either, so a patch
(:data:`pipeline.runtime.patches.DBT_SUBPROCESS`) gives its invocation module a ``subprocess`` whose ``Popen``
is :func:`guarded_popen`.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

_PR_SET_DEATHSIG = 1
_ALLOWED_PREFIXES = ("DBT_", "DAGSTER_DBT", "PYTHON", "LC_", "SEATWATCH_WAREHOUSE_PATH")
_ALLOWED_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        "TERM",
        "NO_COLOR",
        "VIRTUAL_ENV",
        "DO_NOT_TRACK",
        "SEATWATCH_DATA_DIR",
    }
)


def child_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables a child process (dbt) may see: an allow-list, never a credential."""
    env = os.environ if env is None else env
    return {
        name: value
        for name, value in env.items()
        if (name in _ALLOWED_NAMES or name.startswith(_ALLOWED_PREFIXES))
        and not name.startswith("ATLASSIAN_")
    }


def dbt_executable() -> str:
    """The venv's dbt, whether or not the venv is activated (`uv run` and `dagster dev` differ on PATH)."""
    return str(Path(sys.executable).with_name("dbt"))


def die_with_parent(signum: int = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn``: the kernel sends ``signum`` to the child when this process dies."""
    parent = os.getpid()

    def preexec() -> None:  # runs in the child between fork and exec
        if sys.platform.startswith("linux"):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DEATHSIG, signum)
            # The parent may have died between fork and prctl: then nobody would signal us.
            if os.getppid() != parent:
                os._exit(1)

    return preexec


def guarded_popen(*args: Any, **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen`` for children of a run: parent-death signal and an allow-listed environment."""
    kwargs["env"] = child_environment(kwargs.get("env"))
    kwargs["preexec_fn"] = die_with_parent()
    return subprocess.Popen(*args, **kwargs)  # noqa: S603 (callers pass a fixed argv, no shell)


def guarded_run(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess:
    kwargs["env"] = child_environment(kwargs.get("env"))
    kwargs["preexec_fn"] = die_with_parent()
    return subprocess.run(*args, **kwargs)  # noqa: S603 (callers pass a fixed argv and check=)
