"""What the published copy holds: the documented `marts` schema and nothing of the pipeline's internals.

BI tools list every schema of the file they open; raw dlt tables (with their `_dlt_*` bookkeeping), staging
views and intermediate tables are the pipeline's working state, not an interface, so the copy for readers
gets the marts alone, with their table and column comments.

Timestamps are published as UTC ``TIMESTAMP`` rather than ``TIMESTAMP WITH TIME ZONE``: DuckDB's Python
client needs ``pytz`` to fetch the latter, and a bare ``pip install duckdb`` does not bring it. The values
are the same instants (every ``*_at`` column is UTC by contract).
"""

from __future__ import annotations

import duckdb

PUBLISHED_SCHEMAS = ("marts",)
_ZONED = "TIMESTAMP WITH TIME ZONE"

_TABLES_SQL = """
select schema_name, table_name, comment
from duckdb_tables()
where database_name = $db and schema_name in (select unnest($schemas))
order by schema_name, table_name
"""
_COLUMNS_SQL = """
select column_name, data_type, is_nullable, comment
from duckdb_columns()
where database_name = $db and schema_name = $schema and table_name = $table
order by column_index
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def copy_published_schemas(con: duckdb.DuckDBPyConnection, source: str, target: str) -> list[str]:
    """Copy the published schemas' tables from attached database ``source`` into ``target``.

    Returns the qualified names copied. Table and column comments travel with them.
    """
    copied = []
    tables = con.execute(_TABLES_SQL, {"db": source, "schemas": list(PUBLISHED_SCHEMAS)}).fetchall()
    for schema in sorted({schema for schema, _, _ in tables}):
        con.execute(f"create schema if not exists {_ident(target)}.{_ident(schema)}")
    for schema, table, comment in tables:
        columns = con.execute(_COLUMNS_SQL, {"db": source, "schema": schema, "table": table}).fetchall()
        definitions, selected = [], []
        for name, data_type, nullable, _ in columns:
            published_type = "TIMESTAMP" if data_type == _ZONED else data_type
            definitions.append(f"{_ident(name)} {published_type}{'' if nullable else ' NOT NULL'}")
            selected.append(f"timezone('UTC', {_ident(name)})" if data_type == _ZONED else _ident(name))
        src = f"{_ident(source)}.{_ident(schema)}.{_ident(table)}"
        dst = f"{_ident(target)}.{_ident(schema)}.{_ident(table)}"
        con.execute(f"create table {dst} ({', '.join(definitions)})")
        con.execute(f"insert into {dst} select {', '.join(selected)} from {src}")
        if comment:
            con.execute(f"comment on table {dst} is {_literal(comment)}")
        for name, _, _, column_comment in columns:
            if column_comment:
                con.execute(f"comment on column {dst}.{_ident(name)} is {_literal(column_comment)}")
        copied.append(f"{schema}.{table}")
    return copied
