from pathlib import Path

import duckdb

from pipeline.warehouse import connect, ensure_warehouse, publish


def _storage_version(path: Path) -> str:
    with connect() as con:
        con.execute(f"attach '{path}' as db (read_only)")
        return con.execute(
            "select tags['storage_version'] from duckdb_databases() where database_name = 'db'"
        ).fetchone()[0]


def test_warehouse_is_created_in_the_old_storage_format(tmp_path: Path) -> None:
    path = tmp_path / "data" / "warehouse.duckdb"
    ensure_warehouse(path)
    assert path.exists()
    assert _storage_version(path).startswith("v1.0.0")


def test_publish_replaces_the_copy_while_a_reader_keeps_the_old_one(tmp_path: Path) -> None:
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "seatwatch.duckdb"
    ensure_warehouse(source)
    with duckdb.connect(str(source)) as con:
        con.execute("create schema marts; create table marts.t as select 1 as v")
    publish(source, target)
    reader = duckdb.connect(str(target), read_only=True)
    with duckdb.connect(str(source)) as con:
        con.execute("insert into marts.t values (2)")
    publish(source, target)  # must not be blocked by the open reader
    assert reader.execute("select count(*) from marts.t").fetchone()[0] == 1
    reader.close()
    with duckdb.connect(str(target), read_only=True) as fresh:
        assert fresh.execute("select count(*) from marts.t").fetchone()[0] == 2
    assert _storage_version(target).startswith("v1.0.0")
    assert not list(tmp_path.glob(".*.tmp*"))
