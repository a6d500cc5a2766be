"""``seatwatch status``: stale data and failed runs make it unhealthy (exit 1), with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.readers.run_history import History, RunRecord
from pipeline.readers.status import Status, format_status, read_status
from pipeline.warehouse import connect

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def _published(path: Path, complete_through: dict[str, datetime]) -> Path:
    with connect(path) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.pipeline_runs (org_id varchar, run_id varchar, as_of_date date,"
            " activity_complete_through timestamptz, extracted_at timestamptz, started_at timestamptz)"
        )
        for org, moment in complete_through.items():
            con.execute(
                "insert into marts.pipeline_runs values (?, 'run-1', ?, ?, ?, ?)",
                [org, moment.date(), moment, moment + timedelta(hours=24), moment + timedelta(hours=24)],
            )
    return path


def test_stale_data_is_a_problem_even_without_runs(tmp_path: Path) -> None:
    published = _published(
        tmp_path / "seatwatch.duckdb", {"fresh": NOW - timedelta(hours=24), "old": NOW - timedelta(hours=49)}
    )
    status = read_status(tmp_path / "no-dagster-home", tmp_path, published, now=NOW)
    assert [(org.org_id, org.age_hours, org.stale) for org in status.orgs] == [
        ("fresh", 24.0, False),
        ("old", 49.0, True),
    ]
    assert not status.healthy and "org old: activity complete through 49 h ago" in status.problems[0]
    text = format_status(status)
    assert "STALE (over 48 h)" in text and "no runs recorded" in text and "PROBLEM: org old" in text


def test_a_failed_latest_run_is_reported_with_its_reason(tmp_path: Path) -> None:
    published = _published(tmp_path / "seatwatch.duckdb", {"org": NOW - timedelta(hours=24)})
    ok = RunRecord("run-1", "schedule", NOW - timedelta(hours=5), NOW - timedelta(hours=4), "succeeded", None)
    failed = RunRecord("run-2", "CLI", NOW - timedelta(hours=1), NOW, "failed", "The key is wrong.")
    status = Status(tmp_path, published, True, History([failed, ok], "run-1"))
    assert not status.healthy and status.published_from_latest_success
    assert status.problems == ["the latest run run-2 failed: The key is wrong."]
    assert status.to_dict()["runs"][0]["duration_seconds"] == 3600.0
    healthy = Status(tmp_path, published, True, History([ok], "run-1"))
    assert healthy.healthy and "OK:" in format_status(healthy)


def test_no_published_copy_is_a_problem(tmp_path: Path) -> None:
    status = read_status(tmp_path / "home", tmp_path, tmp_path / "seatwatch.duckdb", now=NOW)
    assert not status.healthy and "no published copy" in status.problems[0]


def test_the_warehouse_publish_is_an_outcome_of_its_own(tmp_path: Path) -> None:
    from pipeline.readers.run_history import WarehousePublish

    published = _published(tmp_path / "seatwatch.duckdb", {"org": NOW - timedelta(hours=24)})
    ok = RunRecord("run-1", "schedule", NOW - timedelta(hours=5), NOW - timedelta(hours=4), "succeeded", None)
    reason = "Publishing the marts to postgres (dataset seatwatch) failed: the server is down."
    failed = RunRecord("run-2", "CLI", NOW - timedelta(hours=1), NOW, "failed", reason)
    last = WarehousePublish("run-1", True, NOW - timedelta(hours=4), "postgres:seatwatch", 3869, None)
    latest = WarehousePublish("run-2", False, NOW, None, None, reason)
    status = Status(
        tmp_path, published, True, History([failed, ok], "run-2", latest, last), [], [], "postgres:seatwatch"
    )
    text = format_status(status)
    assert "Team warehouse: postgres:seatwatch" in text
    assert f"FAILED in run run-2 at 2026-11-28 06:00:00: {reason}" in text
    assert "last published by run run-1 at 2026-11-28 02:00:00 to postgres:seatwatch (3869 rows)" in text
    assert status.to_dict()["warehouse"]["latest"]["outcome"] == "failed"
    unconfigured = Status(tmp_path, published, True, History([ok], "run-1"))
    assert "Team warehouse" not in format_status(unconfigured)
