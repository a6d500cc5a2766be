"""A team deployment end to end: the Dagster instance stored in Postgres (dagster-postgres), the marts
published to a Postgres warehouse, both on the suite's real PostgreSQL 16 (tests/support/postgres.py), with
a planted password that must appear nowhere Seatwatch writes or shows."""

from __future__ import annotations

import json
import logging
import os
import threading
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import dagster as dg
import pytest

from pipeline.runtime.instance import DAGSTER_YAML, POSTGRES_STORAGE_YAML
from tests.support.postgres import PostgresServer
from tests.support.processes import descendants
from tests.support.warehouse_tables import duckdb_tables, postgres_tables

# The children a run starts for its steps: dbt, and the tail and orphan watcher of Dagster's log capture.
_STEP_CHILDREN = ("/dbt ", "tail -F", "watch_orphans")


def _children_showing(secret: str, found: list[str], stop: threading.Event) -> None:
    """Any child process whose command line shows ``secret`` (what ``ps`` lists), or whose environment
    holds it if it is a child a step starts, while the run goes on."""
    while not stop.is_set():
        for pid in descendants(os.getpid()):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if secret in command:
                found.append(f"command line: {command[:200]}")
            if secret in environ and any(child in command for child in _STEP_CHILDREN):
                found.append(f"environment of {command[:200]}")
        stop.wait(0.5)  # each look walks /proc; the step children live for seconds


def _files_containing(secret: str, *folders: Path) -> list[str]:
    return [
        str(path)
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and secret.encode() in path.read_bytes()
    ]


def _rows_containing(server: PostgresServer, database: str, secret: str) -> list[str]:
    tables = server.psql(
        "select table_name from information_schema.tables where table_schema = 'public'", database
    ).split()
    return [
        table
        for table in tables
        if server.psql(f"select count(*) from public.\"{table}\" t where t::text like '%{secret}%'", database)
        != "0"
    ]


def _main(*argv: str) -> tuple[int, str, str]:
    from pipeline.cli import main

    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow(runs=2)
def test_a_team_deployment_on_postgres(
    postgres_server: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dagster_db = postgres_server.database("team_dagster")
    warehouse_db = postgres_server.database("team_warehouse")
    home, data = tmp_path / "dagster_home", tmp_path / "data"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML + POSTGRES_STORAGE_YAML)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_server.sqlalchemy_url(dagster_db))
    monkeypatch.setenv("SEATWATCH_PUBLISH_DESTINATION", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_server.url(warehouse_db))
    secret = postgres_server.password
    caplog.set_level(logging.DEBUG)

    shown: list[str] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_children_showing, args=(secret, shown, stop))
    watcher.start()
    try:
        code, out, err = _main("run", "--verbose")
    finally:
        stop.set()
        watcher.join()
    assert code == 0, err[-3000:]

    # The run is recorded in Postgres, successful, with its materializations.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        [record] = instance.get_run_records(dg.RunsFilter(job_name="seatwatch_daily"))
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        run_id = record.dagster_run.run_id
        materialized = {
            entry.dagster_event.asset_key.to_user_string()
            for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        }
        assert {"published_copy", "team_warehouse", "marts/dim_users"} <= materialized
    assert postgres_server.psql("select count(*) from runs where status = 'SUCCESS'", dagster_db) == "1"

    # The warehouse holds what the copy holds.
    with postgres_server.connect(warehouse_db) as connection:
        assert postgres_tables(connection, "seatwatch") == duckdb_tables(data / "seatwatch.duckdb")

    # A tick of the daily schedule, evaluated and run against the same instance. The whole graph has just
    # run above; this run executes the publishing steps of the job (a second full run would double the
    # test's minutes and show nothing more about where Dagster keeps its records).
    from pipeline.config.shared import DAILY_JOB_NAME
    from pipeline.definitions import defs
    from pipeline.defs.schedules import daily_schedule

    repository = defs.get_repository_def()
    schedule = repository.get_schedule_def(daily_schedule.name)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        tick = datetime.now(UTC).replace(hour=1, minute=15, second=0, microsecond=0)
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=tick, repository_def=repository
        )
        [request] = schedule.evaluate_tick(context).run_requests
        result = defs.resolve_job_def(DAILY_JOB_NAME).execute_in_process(
            instance=instance,
            tags={**request.tags, **dg.DagsterRun.tags_for_schedule(schedule)},
            asset_selection=[dg.AssetKey("published_copy"), dg.AssetKey("team_warehouse")],
        )
        assert result.success
        assert len(instance.get_run_records(dg.RunsFilter(job_name=DAILY_JOB_NAME))) == 2

    code, out, _ = _main("status", "--json")
    status = json.loads(out)
    assert [run["trigger"] for run in status["runs"]] == ["schedule", "CLI"]
    assert status["warehouse"]["latest"]["outcome"] == "published"
    assert status["warehouse"]["latest"]["run_id"] == result.run_id
    assert status["warehouse"]["target"] == "postgres:seatwatch"

    # The planted password: in no file, log line, child process, run record or printed line.
    assert _files_containing(secret, data, home) == []
    assert secret not in caplog.text and secret not in out and secret not in err
    assert sorted(set(shown)) == []
    assert _rows_containing(postgres_server, dagster_db, secret) == []
