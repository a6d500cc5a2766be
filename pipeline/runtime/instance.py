"""The Dagster instance of a data folder: created once, under a lock, and checked before use.

Each data folder (``SEATWATCH_DATA_DIR``) has its own Dagster home, ``<data folder>/.dagster``, unless the
user set ``DAGSTER_HOME``: runs, partitions and pool claims describe the warehouse next to them, so runs
against a throw-away data folder never mark days failed (or loaded) for the real one.

Dagster creates its SQLite storages (and stamps their alembic revision) on first use. Two processes doing
that at once can leave two alembic heads, after which every run fails; so the first opening of a home,
by ``seatwatch run`` or before ``seatwatch ui`` starts Dagster, happens under an exclusive file lock and
touches every storage before the lock is released.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from pipeline.config.errors import SeatwatchError

HOME_DIR_NAME = ".dagster"
_LOCK_NAME = ".seatwatch-instance.lock"

DAGSTER_YAML = """\
# Created by seatwatch (pipeline/runtime/instance.py). Storage defaults to SQLite files in this folder.
telemetry:
  enabled: false
nux:
  enabled: false
concurrency:
  pools:
    default_limit: 1   # the duckdb_writer pool: one step holds data/warehouse.duckdb at a time
  runs:
    max_concurrent_runs: 1
run_monitoring:
  enabled: true
  # A run that ended without freeing its pool slot (its process was killed) gives it back after this.
  free_slots_after_run_end_seconds: 10
"""


# A team deployment keeps the runs, event logs and schedules in Postgres (dagster-postgres): appended to the
# settings above in the team's own dagster.yaml (docs/team-setup.md; tests/test_team_deployment.py runs it).
# SQLAlchemy 2 reads a bare postgresql:// URL as psycopg 3; dagster-postgres brings psycopg2.
POSTGRES_STORAGE_YAML = """\
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL   # postgresql+psycopg2://user:password@host:5432/dagster
"""


class BrokenInstanceError(SeatwatchError):
    """The Dagster home exists but its storage cannot be used."""

    exit_code = 2


def dagster_home(data_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    """``DAGSTER_HOME`` when the user set it, else the data folder's own home."""
    env = os.environ if env is None else env
    chosen = env.get("DAGSTER_HOME", "").strip()
    return Path(chosen).expanduser().resolve() if chosen else data_dir / HOME_DIR_NAME


@contextmanager
def _creation_lock(home: Path) -> Iterator[None]:
    with (home / _LOCK_NAME).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the process dies
        yield


def _touch_storages(instance: dg.DagsterInstance) -> None:
    """Create (or migrate-check) every SQLite storage now, while this process holds the lock."""
    instance.get_runs(limit=1)
    instance.event_log_storage.get_pool_config()
    instance.event_log_storage.get_concurrency_keys()
    instance.all_instigator_state()


def prepare_home(home: Path) -> Path:
    """Create the home (config and storages) once, safely, and check it opens. Idempotent."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BrokenInstanceError(
            f"Cannot create the Dagster home {home}: {error.strerror}. "
            "Make its parent folder writable or set DAGSTER_HOME to a writable folder."
        ) from None
    with _creation_lock(home):
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text(DAGSTER_YAML)
        instance = _open(home)
        try:
            _touch_storages(instance)
        except Exception as error:
            raise _broken(home, error) from None
        finally:
            instance.dispose()
    return home


def _open(home: Path) -> dg.DagsterInstance:
    try:
        return dg.DagsterInstance.from_config(str(home))
    except Exception as error:
        raise _broken(home, error) from None


def _broken(home: Path, error: BaseException) -> BrokenInstanceError:
    reason = " ".join(str(error).split())[:160] or type(error).__name__
    return BrokenInstanceError(
        f"The Dagster instance in {home} is unusable ({reason}). It holds only run history, not data: "
        f"move it aside (mv {home} {home}.broken) and run again."
    )


def open_instance(data_dir: Path) -> dg.DagsterInstance:
    """The data folder's Dagster instance, created on first use. Close it (``with``) when done."""
    home = prepare_home(dagster_home(data_dir))
    return _open(home)
