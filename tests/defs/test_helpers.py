"""Pure pieces of the orchestration: check arithmetic, the clock warning, Dagster home."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from pipeline.commands.dagster_home import ensure_dagster_home
from pipeline.config.freshness import stale_orgs
from pipeline.defs.checks import count_mismatches
from pipeline.extract.run import clock_warning
from pipeline.sources.atlassian_admin import EVENTS_OVERLAP, events_start

NOW = datetime(2026, 11, 23, 1, 15, tzinfo=UTC)


def test_stale_orgs_are_those_over_48_hours() -> None:
    latest = {"fresh": NOW - timedelta(hours=47), "stale": (NOW - timedelta(hours=49)).replace(tzinfo=None)}
    assert stale_orgs(latest, NOW, timedelta(hours=48)) == {"stale": 49.0}
    assert stale_orgs(latest, NOW) == {"stale": 49.0}  # the default: the dbt source freshness, 48 h


def test_count_mismatches_compare_every_org_the_api_counted() -> None:
    assert count_mismatches({"a": 3, "b": 2}, {"a": 3, "b": 2}) == {}
    assert count_mismatches({"a": 3, "b": 2}, {"a": 2}) == {
        "a": {"api": 3, "loaded": 2},
        "b": {"api": 2, "loaded": 0},
    }


def test_a_clock_off_by_more_than_five_minutes_is_one_line() -> None:
    assert clock_warning({}) is None
    assert clock_warning({"o1": 299.0, "o2": -120.0}) is None
    line = clock_warning({"o1": 10.0, "o2": -2 * 86400.0})
    assert line is not None and "\n" not in line
    assert "org o2" in line and "48.0 h behind" in line


def test_events_are_read_from_the_last_processing_point_loaded_less_the_overlap() -> None:
    api_now = datetime(2026, 11, 23, 6, tzinfo=UTC)
    assert events_start({}, "o1", api_now) == api_now - timedelta(days=180)  # first load: the retention
    loaded = datetime(2026, 11, 20, 6, 0, 0, 123000, tzinfo=UTC)
    # The API's clock being days ahead (or behind) of the last load changes nothing: no gap, no window.
    assert events_start({"o1": loaded.isoformat()}, "o1", api_now) == loaded - EVENTS_OVERLAP
    assert (
        events_start({"o1": loaded.isoformat()}, "o1", loaded - timedelta(days=2)) == loaded - EVENTS_OVERLAP
    )


def test_dagster_home_set_by_the_user_wins_and_is_configured_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = ensure_dagster_home(tmp_path / "data")
    assert home == tmp_path / "home"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_settings("telemetry") == {"enabled": False}
        assert not instance.nux_enabled  # no newsletter pop-up in the UI
        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.default_pool_limit == 1
        assert concurrency.run_queue_config.max_concurrent_runs == 1
    (home / "dagster.yaml").write_text("telemetry: {enabled: false}\n")
    ensure_dagster_home(tmp_path / "data")  # an existing file is the user's: left alone
    assert (home / "dagster.yaml").read_text() == "telemetry: {enabled: false}\n"


def test_without_dagster_home_the_data_folder_has_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME")
    assert ensure_dagster_home(tmp_path / "data") == tmp_path / "data" / ".dagster"
    assert (tmp_path / "data" / ".dagster" / "dagster.yaml").exists()


def test_every_asset_and_check_has_a_description() -> None:
    from pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    undescribed = [
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if not (graph.get(key).description or "").strip()
    ]
    undescribed += [
        key.to_user_string()
        for key in graph.asset_check_keys
        if not (graph.get_check_spec(key).description or "").strip()
    ]
    assert undescribed == []
