"""The team's warehouse: the published marts, loaded with dlt into the destination the team names.

DuckDB stays the engine that loads and transforms; this only copies what the published copy
(``data/seatwatch.duckdb``) holds, the same tables and columns, to ``SEATWATCH_PUBLISH_DESTINATION`` (any
dlt destination name). The credentials are dlt's own configuration (``DESTINATION__<NAME>__CREDENTIALS``
or ``.dlt/secrets.toml``): Seatwatch never reads, stores or prints them, and scrubs a URL's password from
any error text it passes on.

Readers see the old marts or the new ones, never a mix (docs/team-setup.md):

* ``postgres`` (tested): dlt loads the marts into a side dataset ``<dataset>_incoming``; then one
  transaction replaces every table of ``<dataset>`` from it (``DELETE`` + ``INSERT``, tables created or
  re-created when their columns changed, comments set, tables no longer published dropped). Postgres DDL
  and DML are transactional and ``DELETE`` is MVCC-safe (``TRUNCATE`` is not), so a reader's query, or a
  whole repeatable-read transaction over several tables, sees all of one publish, and never blocks it.
* any other destination: dlt's ``replace`` with the ``insert-from-staging`` strategy into ``<dataset>``
  itself: each table is swapped from dlt's staging dataset in a transaction where the destination has
  them, table by table (not the set at once). Not tested here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.analyst_surface import PUBLISHED_SCHEMAS
from pipeline.config.errors import ConfigurationError, WarehousePublishError
from pipeline.warehouse import connect

PIPELINE_NAME = "seatwatch_publish"
PIPELINES_DIR = ".dlt-publish"  # in the data folder: dlt's local state of the publishing pipeline
SWAPPED = ("postgres",)  # destinations published through the side dataset and one transaction
INCOMING_SUFFIX = "_incoming"
_BATCH = 5_000

_TABLES_SQL = """
select table_name, comment from duckdb_tables()
where schema_name = $schema order by table_name
"""
_COLUMNS_SQL = """
select column_name, data_type, is_nullable, comment from duckdb_columns()
where schema_name = $schema and table_name = $table order by column_index
"""
# DuckDB type -> dlt data type (the marts use these; anything else travels as text).
_DLT_TYPES = {
    "BIGINT": ("bigint", None),
    "INTEGER": ("bigint", 32),
    "SMALLINT": ("bigint", 16),
    "TINYINT": ("bigint", 8),
    "DOUBLE": ("double", None),
    "FLOAT": ("double", None),
    "BOOLEAN": ("bool", None),
    "DATE": ("date", None),
    "TIMESTAMP": ("timestamp", None),
    "TIME": ("time", None),
    "BLOB": ("binary", None),
    "JSON": ("json", None),
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@")
_KEY_PASSWORD = re.compile(r"(?i)(password\s*[=:]\s*)('[^']*'|\S+)")


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    nullable: bool
    description: str | None

    def hint(self) -> dict[str, Any]:
        decimal = _DECIMAL.fullmatch(self.duckdb_type)
        if decimal:
            data_type, precision, scale = "decimal", int(decimal[1]), int(decimal[2])
        else:
            data_type, precision = _DLT_TYPES.get(self.duckdb_type, ("text", None))
            if self.duckdb_type.endswith("]") or self.duckdb_type.startswith(("STRUCT", "MAP")):
                data_type = "json"  # lists and structs stay one column, never dlt child tables
            scale = None
        hint: dict[str, Any] = {"name": self.name, "data_type": data_type, "nullable": self.nullable}
        if precision is not None:
            hint["precision"] = precision
        if scale is not None:
            hint["scale"] = scale
        if self.description:
            hint["description"] = self.description
        return hint


@dataclass(frozen=True)
class Table:
    name: str
    description: str | None
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Published:
    destination: str
    dataset: str
    tables: int
    rows: int
    seconds: float
    strategy: str


def scrub(text: str) -> str:
    """``text`` without the password of any URL or ``password=`` pair in it (error texts of drivers)."""
    return _KEY_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\g<head>***@", text))


def published_tables(published: Path) -> list[Table]:
    """The published copy's tables and columns, with their comments."""
    tables = []
    with connect(published, read_only=True) as con:
        for schema in PUBLISHED_SCHEMAS:
            for name, comment in con.execute(_TABLES_SQL, {"schema": schema}).fetchall():
                rows = con.execute(_COLUMNS_SQL, {"schema": schema, "table": name}).fetchall()
                columns = tuple(Column(c, t, bool(n), d or None) for c, t, n, d in rows)
                tables.append(Table(name, comment or None, columns))
    return tables


def _rows(published: Path, table: Table) -> Iterator[list[dict[str, Any]]]:
    names = [column.name for column in table.columns]
    select = ", ".join(_quote(name) for name in names)
    with connect(published, read_only=True) as con:
        cursor = con.execute(f"select {select} from marts.{_quote(table.name)}")
        empty = True
        while batch := cursor.fetchmany(_BATCH):
            empty = False
            yield [dict(zip(names, row, strict=True)) for row in batch]
    if empty:  # dlt creates (and empties) a table that had no rows only when told to
        import dlt

        yield dlt.mark.materialize_table_schema()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def destination_factory(name: str, **config: Any) -> Any:
    """dlt's destination of that name; a name dlt does not know is a configuration error (exit 2)."""
    from dlt.common.destination import Destination
    from dlt.common.destination.exceptions import UnknownDestinationModule

    try:
        return Destination.from_reference(name, **config)
    except (UnknownDestinationModule, ImportError, ValueError) as error:
        raise ConfigurationError(
            f"SEATWATCH_PUBLISH_DESTINATION={name} is not a dlt destination this installation has "
            f"({scrub(str(error)).splitlines()[0][:120]}): use a dlt destination name such as postgres, "
            "and install its extra (dlt[<name>])."
        ) from None


def check_configured(destination: str) -> None:
    """Before a run: the destination exists and dlt finds its credentials (no connection is made), so a
    missing setting ends ``seatwatch run`` at once with exit code 2 rather than after the whole run."""
    from dlt.common.configuration.exceptions import ConfigFieldMissingException

    factory = destination_factory(destination)
    try:
        factory.configuration(factory.spec())
    except ConfigFieldMissingException as error:
        fields = set(error.fields) - {"dataset_name"}  # the pipeline gives it
        if not fields:
            return
        missing = "missing " + ", ".join(sorted(fields))
        raise ConfigurationError(
            f"The publish destination {destination} is not configured ({missing}): set "
            f"DESTINATION__{destination.upper()}__CREDENTIALS (dlt's configuration), or unset "
            "SEATWATCH_PUBLISH_DESTINATION."
        ) from None
    except Exception as error:
        said = " ".join(scrub(str(error)).split())[:160]
        raise ConfigurationError(
            f"The configuration of the publish destination {destination} cannot be read ({said}): check "
            f"DESTINATION__{destination.upper()}__CREDENTIALS."
        ) from None


def make_pipeline(data_dir: Path, destination: str, dataset: str) -> Any:
    """The dlt pipeline that loads the marts: into the side dataset for swapped destinations."""
    import dlt

    swapped = destination in SWAPPED
    factory = destination_factory(
        destination, **({} if swapped else {"replace_strategy": "insert-from-staging"})
    )
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=factory,
        dataset_name=dataset + INCOMING_SUFFIX if swapped else dataset,
        pipelines_dir=str(data_dir / PIPELINES_DIR),
        progress=None,
    )


def _source(published: Path, tables: list[Table]) -> list[Any]:
    import dlt

    return [
        dlt.resource(
            _rows(published, table),
            name=table.name,
            write_disposition="replace",
            columns=[column.hint() for column in table.columns],
        )
        for table in tables
    ]


def publish_to_destination(published: Path, data_dir: Path, destination: str, dataset: str) -> Published:
    """Load the published copy's marts into ``destination``/``dataset``; raise one line on failure."""
    started = time.monotonic()
    tables = published_tables(published)
    pipeline = make_pipeline(data_dir, destination, dataset)
    swapped = destination in SWAPPED
    try:
        # A package an earlier failed publish left behind would be loaded before this one.
        pipeline.abort_packages()
        info = pipeline.run(_source(published, tables))
        info.raise_on_failed_jobs()
        if swapped:
            with pipeline.sql_client() as client:
                swap_in(client, dataset + INCOMING_SUFFIX, dataset, tables)
    except ConfigurationError:
        raise
    except Exception as error:
        missing = _missing_configuration(error)
        if missing:
            raise ConfigurationError(
                f"The publish destination {destination} is not configured ({missing}): set "
                f"DESTINATION__{destination.upper()}__CREDENTIALS (dlt's configuration), or unset "
                "SEATWATCH_PUBLISH_DESTINATION."
            ) from None
        raise publish_error(destination, dataset, error) from None
    rows = sum(_count(published, table) for table in tables)
    return Published(
        destination,
        dataset,
        len(tables),
        rows,
        round(time.monotonic() - started, 2),
        "side dataset + one transaction" if swapped else "dlt insert-from-staging",
    )


def _count(published: Path, table: Table) -> int:
    with connect(published, read_only=True) as con:
        return con.execute(f"select count(*) from marts.{_quote(table.name)}").fetchone()[0]


def _missing_configuration(error: BaseException) -> str | None:
    from dlt.common.configuration.exceptions import ConfigFieldMissingException

    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConfigFieldMissingException):
            return "missing " + ", ".join(sorted(error.fields))
        error = getattr(error, "exception", None) or error.__cause__ or error.__context__
    return None


def publish_error(destination: str, dataset: str, error: BaseException) -> WarehousePublishError:
    """One line: which destination, what it said (password scrubbed), what to do."""
    inner = error
    while inner.__cause__ is not None or getattr(inner, "exception", None) is not None:
        inner = getattr(inner, "exception", None) or inner.__cause__
    said = " ".join(scrub(str(inner)).split())[:200] or type(inner).__name__
    said += "" if said.endswith((".", "?", "!")) else "."
    return WarehousePublishError(
        f"Publishing the marts to {destination} (dataset {dataset}) failed: {said} Check that the "
        f"server is up and DESTINATION__{destination.upper()}__CREDENTIALS; data/seatwatch.duckdb and the "
        "report are written, and the next run publishes again."
    )


def _live_columns(client: Any, schema: str, table: str) -> list[tuple[str, str]]:
    rows = client.execute_sql(
        "select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        schema,
        table,
    )
    return [(name, f"{kind}({precision},{scale})") for name, kind, precision, scale in rows or []]


def swap_in(client: Any, incoming: str, live: str, tables: list[Table]) -> None:
    """Replace every table of ``live`` from ``incoming`` in one Postgres transaction."""
    source, target = _quote(incoming), _quote(live)
    with client.begin_transaction():
        client.execute_sql(f"create schema if not exists {target}")
        existing = {
            name
            for (name,) in client.execute_sql(
                "select table_name from information_schema.tables where table_schema = %s", live
            )
            or []
        }
        for table in tables:
            names = [column.name for column in table.columns]
            columns = ", ".join(_quote(name) for name in names)
            src, dst = f"{source}.{_quote(table.name)}", f"{target}.{_quote(table.name)}"
            wanted = [c for c in _live_columns(client, incoming, table.name) if c[0] in names]
            if table.name in existing and _live_columns(client, live, table.name) == wanted:
                client.execute_sql(f"delete from {dst}")
            else:
                client.execute_sql(f"drop table if exists {dst}")
                client.execute_sql(f"create table {dst} as select {columns} from {src} with no data")
            client.execute_sql(f"insert into {dst} ({columns}) select {columns} from {src}")
            client.execute_sql(f"comment on table {dst} is {_literal(table.description or '')}")
            for column in table.columns:
                client.execute_sql(
                    f"comment on column {dst}.{_quote(column.name)} is {_literal(column.description or '')}"
                )
        for gone in sorted(existing - {table.name for table in tables}):
            client.execute_sql(f"drop table {target}.{_quote(gone)}")
