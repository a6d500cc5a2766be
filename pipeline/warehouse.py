"""The pipeline-owned DuckDB file and the copy published for readers.

DuckDB 2.0 writes files that DuckDB 1.x clients (most BI tools) cannot open, and a reader holding a file
blocks every writer. So the warehouse is created in the 1.0 storage format before dlt first touches it, and
readers get their own copy, replaced atomically after each successful run.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.analyst_surface import copy_published_schemas
from pipeline.config.errors import lock_error_in

STORAGE_VERSION = "v1.0.0"
_NO_AUTOINSTALL = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def connect(path: Path | str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never downloads extensions (this project runs offline)."""
    return duckdb.connect(str(path), read_only=read_only, config=dict(_NO_AUTOINSTALL))


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def ensure_warehouse(path: Path) -> None:
    """Create an empty warehouse in the 1.0 storage format if there is none yet.

    Existing files keep their storage version, so this only matters on the first run.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect() as con:
        con.execute(f"attach {_quote(path)} as warehouse (storage_version '{STORAGE_VERSION}')")
        con.execute("detach warehouse")


def publish(source: Path, target: Path) -> Path:
    """Copy ``source``'s published schemas to ``target`` atomically, in a format DuckDB 1.x readers can open.

    A reader that has the old file open keeps reading it undisturbed; new connections see the new file.
    """
    tmp = target.with_name(f".{target.name}.tmp")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        with connect() as con:
            con.execute(f"attach {_quote(source)} as src (read_only)")
            con.execute(f"attach {_quote(tmp)} as dst (storage_version '{STORAGE_VERSION}')")
            copy_published_schemas(con, "src", "dst")
            con.execute("detach dst")
            con.execute("detach src")
        tmp.replace(target)  # os.replace: atomic on POSIX
    finally:
        tmp.unlink(missing_ok=True)
    return target


def check_unlocked(path: Path) -> None:
    """Fail with one line naming the holder if another process has ``path`` open.

    Called by every step that writes the warehouse before dlt or dbt open it: both would fail on the lock
    too, but dlt's message blames credentials and the network, and dbt's is buried in its log. The steps of
    a run take turns on the ``duckdb_writer`` pool, so a holder is always another program.
    """
    if not path.exists():
        return
    try:
        connect(path).close()
    except duckdb.IOException as error:
        locked = lock_error_in(str(error))
        if locked is None:
            raise
        raise locked from None
