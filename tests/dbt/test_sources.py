"""The dbt sources declare their tables' columns as the writers create them: the macro source_or_empty
(dbt_project/macros/source_or_empty.sql) stands in an empty relation with these columns for a table its writer
has not created yet, and staging selects them by name."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from pipeline.reclaim.journal import Journal
from pipeline.reclaim.notices import Notices
from tests.support.raw_fixture import DLT_COLUMNS, TABLES

STAGING = Path(__file__).parents[2] / "dbt_project" / "models" / "staging"


def _declared(sources_yml: str) -> dict[str, dict[str, str]]:
    (source,) = yaml.safe_load((STAGING / sources_yml).read_text())["sources"]
    return {
        table["name"]: {column["name"]: column["data_type"] for column in table["columns"]}
        for table in source["tables"]
    }


def _described(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return {name: data_type for name, data_type, *_ in con.execute(f"describe {table}").fetchall()}


def test_raw_tables_declare_the_columns_of_the_dlt_source() -> None:
    # schema.RAW_TABLES in DuckDB's type names (the fixture builds raw from it), then dlt's own columns
    for table, columns in _declared("atlassian/_atlassian__sources.yml").items():
        assert columns == {**TABLES[table], **DLT_COLUMNS}, table


def test_the_journal_declares_the_columns_reclaim_creates(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with Journal.open(warehouse):
        pass
    with Notices.open(warehouse):
        pass
    declared = _declared("reclaim/_reclaim__sources.yml")
    assert set(declared) == {"actions", "notices"}
    with duckdb.connect(str(warehouse)) as con:
        for table, columns in declared.items():
            con.execute(
                f"create table declared_{table} ({', '.join(f'{n} {t}' for n, t in columns.items())})"
            )
            assert _described(con, f"declared_{table}") == _described(con, f"reclaim.{table}"), table
