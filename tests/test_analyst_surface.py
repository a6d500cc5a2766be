"""The published copy holds the documented marts only, with zoned timestamps turned into UTC TIMESTAMPs."""

from datetime import datetime
from pathlib import Path

import duckdb

from pipeline.warehouse import ensure_warehouse, publish


def test_publish_keeps_the_marts_with_their_comments_and_utc_timestamps(tmp_path: Path) -> None:
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "seatwatch.duckdb"
    ensure_warehouse(source)
    with duckdb.connect(str(source)) as con:
        # A session far from UTC: the published values must not depend on it.
        con.execute("set TimeZone = 'America/New_York'")
        con.execute("create schema raw; create table raw._dlt_loads as select 1 as load_id")
        con.execute("create schema staging; create view staging.v as select 1 as x")
        con.execute("create schema marts")
        con.execute("create table marts.t (id integer not null, seen_at timestamptz, note varchar)")
        con.execute("insert into marts.t values (1, '2026-11-28 06:00:00+00', 'it''s'), (2, null, null)")
        con.execute("comment on table marts.t is 'One row per thing.'")
        con.execute("comment on column marts.t.seen_at is 'When it was seen (UTC).'")
    publish(source, target)
    with duckdb.connect(str(target), read_only=True) as con:
        tables = con.execute("select schema_name, table_name, comment from duckdb_tables()").fetchall()
        views = con.execute("select view_name from duckdb_views() where not internal").fetchall()
        columns = con.execute(
            "select column_name, data_type, is_nullable, comment from duckdb_columns()"
            " where not internal order by column_index"
        ).fetchall()
        rows = con.execute("select * from marts.t order by id").fetchall()
    assert tables == [("marts", "t", "One row per thing.")] and views == []
    assert columns == [
        ("id", "INTEGER", False, None),
        ("seen_at", "TIMESTAMP", True, "When it was seen (UTC)."),
        ("note", "VARCHAR", True, None),
    ]
    assert rows == [(1, datetime(2026, 11, 28, 6, 0), "it's"), (2, None, None)]
