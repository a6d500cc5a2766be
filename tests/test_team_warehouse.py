"""The published marts in the team's warehouse: a real PostgreSQL 16 (tests/support/postgres.py), loaded by
pipeline/team_warehouse.py from the demo run's published copy (read-only, shared with other tests)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from pipeline.config.errors import ConfigurationError, WarehousePublishError
from pipeline.team_warehouse import publish_to_destination, scrub
from tests.support.demo import DemoRun
from tests.support.postgres import PostgresServer
from tests.support.warehouse_tables import duckdb_tables, postgres_tables

DATASET = "seatwatch"


@pytest.fixture
def postgres_env(
    postgres_server: PostgresServer, postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> PostgresServer:
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_server.url(postgres_database))
    return postgres_server


def _second_run_copy(published: Path, folder: Path, *, new_column: bool = False) -> Path:
    """The copy as a later run would change it: fewer events, another run id; with ``new_column``, a column
    added to a mart as a Seatwatch upgrade would."""
    copy = folder / "seatwatch.duckdb"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(published, copy)
    with duckdb.connect(str(copy)) as con:
        if new_column:
            con.execute("alter table marts.dim_groups add column review_note varchar default 'checked'")
            con.execute("comment on column marts.dim_groups.review_note is 'A column the upgrade added.'")
        else:
            con.execute("delete from marts.fct_audit_events where hash(event_id) % 3 = 0")
            con.execute("update marts.pipeline_runs set run_id = 'second-run'")
    return copy


def _read_all(server: PostgresServer, database: str) -> dict:
    """Every published table, read in one repeatable-read transaction as a careful reader would."""
    connection = server.connect(database)
    try:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        return postgres_tables(connection, DATASET)
    finally:
        connection.close()


def test_publish_matches_the_copy_and_a_second_publish_replaces_it_at_once(
    demo_run: DemoRun, postgres_env: PostgresServer, postgres_database: str, tmp_path: Path
) -> None:
    first = duckdb_tables(demo_run.published)
    done = publish_to_destination(demo_run.published, tmp_path / "data", "postgres", DATASET)
    assert done.tables == len(first) and done.rows == sum(rows for _, rows, _ in first.values())
    assert _read_all(postgres_env, postgres_database) == first  # columns, row counts, contents

    second_copy = _second_run_copy(demo_run.published, tmp_path / "second")
    second = duckdb_tables(second_copy)
    assert second != first
    seen, errors, stop = [], [], threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                seen.append(_read_all(postgres_env, postgres_database))
            except Exception as error:
                errors.append(error)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        publish_to_destination(second_copy, tmp_path / "data", "postgres", DATASET)
    finally:
        stop.set()
        reader.join(timeout=120)
    assert errors == []
    assert len(seen) >= 3  # the reader kept polling while the publish ran
    mixed = [state for state in seen if state not in (first, second)]
    assert mixed == [], "a reader saw a table missing, empty or from another publish"
    assert _read_all(postgres_env, postgres_database) == second

    # An upgrade that adds a column: the table is re-created inside the same transaction.
    third_copy = _second_run_copy(second_copy, tmp_path / "third", new_column=True)
    publish_to_destination(third_copy, tmp_path / "data", "postgres", DATASET)
    assert _read_all(postgres_env, postgres_database) == duckdb_tables(third_copy)
    with postgres_env.connect(postgres_database) as connection, connection.cursor() as cursor:
        cursor.execute("select col_description('seatwatch.dim_groups'::regclass, 13)")
        assert cursor.fetchone()[0] == "A column the upgrade added."
        cursor.execute("select obj_description('seatwatch.dim_users'::regclass)")
        assert cursor.fetchone()[0]


def _publishing_steps(data: Path, instance_home: Path, env: pytest.MonkeyPatch) -> tuple[bool, str, int]:
    """The daily job's two publishing steps (the DuckDB copy, then the team's warehouse) on ``data``, as
    the end of a run executes them: success, and the line and exit code ``seatwatch run`` would give."""
    import dagster as dg

    from pipeline.config.shared import DAILY_JOB_NAME
    from pipeline.definitions import defs
    from pipeline.readers.step_failures import run_failed_error, step_failures
    from pipeline.runtime.instance import prepare_home

    env.setenv("SEATWATCH_DATA_DIR", str(data))
    env.setenv("SEATWATCH_PUBLISH_DESTINATION", "postgres")
    with dg.DagsterInstance.from_config(str(prepare_home(instance_home))) as instance:
        result = defs.resolve_job_def(DAILY_JOB_NAME).execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey("published_copy"), dg.AssetKey("team_warehouse")],
            raise_on_error=False,
        )
    if result.success:
        return True, "", 0
    error = run_failed_error(result.run_id, step_failures(result.all_events))
    return False, str(error), error.exit_code


def test_a_stopped_server_fails_the_run_in_one_line_and_leaves_the_tables_alone(
    demo_run: DemoRun,
    postgres_env: PostgresServer,
    postgres_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("warehouse.duckdb", "seatwatch.duckdb"):
        shutil.copyfile(demo_run.data_dir / name, data / name)
    assert _publishing_steps(data, tmp_path / "home", monkeypatch)[0]
    before = _read_all(postgres_env, postgres_database)
    assert before == duckdb_tables(data / "seatwatch.duckdb")
    (data / "report.html").unlink()
    copied_at = (data / "seatwatch.duckdb").stat().st_mtime_ns

    with postgres_env.stopped():
        ok, line, exit_code = _publishing_steps(data, tmp_path / "home", monkeypatch)
    assert not ok and exit_code == 1 and "\n" not in line
    assert "Publishing the marts to postgres (dataset seatwatch) failed" in line
    assert "next run publishes again" in line and postgres_env.password not in line
    assert (data / "seatwatch.duckdb").stat().st_mtime_ns > copied_at  # the copy and the report are written
    assert (data / "report.html").exists()
    assert _read_all(postgres_env, postgres_database) == before  # the previous tables, untouched

    second_copy = _second_run_copy(data / "seatwatch.duckdb", tmp_path / "second")
    publish_to_destination(second_copy, data, "postgres", DATASET)  # the server is back: publishes again
    assert _read_all(postgres_env, postgres_database) == duckdb_tables(second_copy)


def test_a_refused_password_is_one_line_without_the_password(
    demo_run: DemoRun,
    postgres_server: PostgresServer,
    postgres_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "planted-wrong-" + postgres_server.password
    monkeypatch.setenv(
        "DESTINATION__POSTGRES__CREDENTIALS", postgres_server.url(postgres_database, password=wrong)
    )
    with pytest.raises(WarehousePublishError) as failure:
        publish_to_destination(demo_run.published, tmp_path / "data", "postgres", DATASET)
    assert "password authentication failed" in str(failure.value)
    assert wrong not in str(failure.value)


def test_no_credentials_or_an_unknown_destination_is_a_configuration_error() -> None:
    from pipeline.team_warehouse import check_configured

    with pytest.raises(ConfigurationError, match="DESTINATION__POSTGRES__CREDENTIALS"):
        check_configured("postgres")
    with pytest.raises(ConfigurationError, match="not a dlt destination"):
        check_configured("no_such_destination")


def test_scrub_removes_passwords_from_driver_messages() -> None:
    assert scrub("postgresql://me:s3cr%40t@db:5432/x failed") == "postgresql://me:***@db:5432/x failed"
    assert scrub("host=db password=s3cret user=me") == "host=db password=*** user=me"


def test_doctor_row_for_the_destination(
    postgres_env: PostgresServer, postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.config.settings import load_settings
    from pipeline.doctor.destination import diagnose_destination

    monkeypatch.setenv("SEATWATCH_PUBLISH_DESTINATION", "postgres")
    settings = load_settings()
    check = diagnose_destination(settings)
    assert check is not None and check.status == "ok", check
    assert "can create the schemas seatwatch and seatwatch_incoming" in check.detail
    assert postgres_env.psql("select count(*) from pg_namespace where nspname like 'seatwatch%'") == "0"

    postgres_env.psql(f'revoke create on database "{postgres_database}" from seatwatch;')
    postgres_env.psql(f'alter database "{postgres_database}" owner to postgres;')
    refused = diagnose_destination(settings)
    assert refused is not None and refused.status == "fail" and "GRANT CREATE ON DATABASE" in refused.detail

    with postgres_env.stopped():
        down = diagnose_destination(settings)
    assert down is not None and down.status == "fail" and "\n" not in down.detail
    assert postgres_env.password not in down.detail
    assert diagnose_destination(load_settings({})) is None


def test_run_refuses_at_once_without_the_destination_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import redirect_stderr
    from io import StringIO

    from pipeline.cli import main

    monkeypatch.setenv("SEATWATCH_PUBLISH_DESTINATION", "postgres")
    err = StringIO()
    with redirect_stderr(err):
        code = main(["run"])
    assert code == 2
    assert err.getvalue().count("\n") == 1 and "DESTINATION__POSTGRES__CREDENTIALS" in err.getvalue()
