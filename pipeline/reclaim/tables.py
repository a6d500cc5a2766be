"""What the two journals of schema ``reclaim`` in warehouse.duckdb (:mod:`pipeline.reclaim.journal`,
:mod:`pipeline.reclaim.notices`) share: opening the warehouse with their tables created, and closing it."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

import duckdb

from pipeline.warehouse import check_unlocked, connect, ensure_warehouse


class ReclaimTables:
    """An open connection to the warehouse, for a subclass whose ``DDL`` creates its tables in schema
    ``reclaim`` (idempotent): ``with Subclass.open(warehouse_path) as tables:``."""

    DDL: ClassVar[str]

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    @classmethod
    def open(cls, warehouse: Path) -> Self:
        ensure_warehouse(warehouse)
        check_unlocked(warehouse)  # a BI tool holding the file: one line naming it, not DuckDB's text
        con = connect(warehouse)
        con.execute("create schema if not exists reclaim")
        con.execute(cls.DDL)
        return cls(con)

    @classmethod
    def _if_created(cls, con: duckdb.DuckDBPyConnection, table: str) -> Self | None:
        """``con`` as this journal when ``reclaim.<table>`` exists; otherwise None, and ``con`` is closed."""
        found = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'reclaim' and table_name = ?", [table]
        ).fetchone()
        if not found or not found[0]:
            con.close()
            return None
        return cls(con)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._con.close()
