"""Table contents compared across engines: the published DuckDB copy and the team's Postgres warehouse.

A table's fingerprint is its column names, its row count and a hash over its rows sorted, with values
normalised (decimals as numbers, timestamps as UTC instants without a zone, floats by ``repr``), so DuckDB's
and Postgres's answers for the same data compare equal.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

Fingerprint = tuple[tuple[str, ...], int, str]
_MARTS = "select table_name from duckdb_tables() where schema_name = 'marts' order by table_name"


def _value(value: Any) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, Decimal):
        value = value.normalize()
    return repr(value)


def fingerprint(columns: list[str], rows: list[tuple]) -> Fingerprint:
    lines = sorted("|".join(_value(v) for v in row) for row in rows)
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return tuple(columns), len(rows), digest


def duckdb_tables(published: Path) -> dict[str, Fingerprint]:
    found = {}
    with duckdb.connect(str(published), read_only=True) as con:
        names = [n for (n,) in con.execute(_MARTS).fetchall()]
        for name in names:
            cursor = con.execute(f'select * from marts."{name}"')
            columns = [d[0] for d in cursor.description]
            found[name] = fingerprint(columns, cursor.fetchall())
    return found


def postgres_tables(connection: Any, schema: str) -> dict[str, Fingerprint]:
    """Every table of ``schema``, read in the connection's current transaction."""
    found = {}
    with connection.cursor() as cursor:
        cursor.execute("select table_name from information_schema.tables where table_schema = %s", (schema,))
        for (name,) in cursor.fetchall():
            cursor.execute(f'select * from "{schema}"."{name}"')
            columns = [d[0] for d in cursor.description]
            found[name] = fingerprint(columns, cursor.fetchall())
    return found
