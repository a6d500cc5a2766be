"""Pure pieces of the orchestration: partition windows, check arithmetic, catch-up days, Dagster home."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.defs.checks import count_mismatches, missing_partitions, stale_orgs
from pipeline.defs.home import ensure_dagster_home
from pipeline.defs.ingest import AUDIT_EVENTS_KEY
from pipeline.defs.partitions import audit_event_days, retained_partition_keys
from pipeline.defs.runner import event_days_to_load, partition_tags

NOW = datetime(2026, 11, 23, 1, 15, tzinfo=UTC)


def test_partitions_end_two_days_back_and_keep_the_api_retention() -> None:
    keys = retained_partition_keys(NOW)
    assert keys[-1] == "2026-11-21"  # D-2: the newest day complete through the 24 h lag
    assert keys[0] == "2026-05-27"  # 180 days before now; older days exist as partitions but are empty
    assert audit_event_days.get_partition_keys(current_time=NOW)[0] == "2025-01-01"


def test_stale_orgs_are_those_over_48_hours() -> None:
    latest = {"fresh": NOW - timedelta(hours=47), "stale": (NOW - timedelta(hours=49)).replace(tzinfo=None)}
    assert stale_orgs(latest, NOW, timedelta(hours=48)) == {"stale": 49.0}


def test_count_mismatches_compare_every_org_the_api_counted() -> None:
    assert count_mismatches({"a": 3, "b": 2}, {"a": 3, "b": 2}) == {}
    assert count_mismatches({"a": 3, "b": 2}, {"a": 2}) == {
        "a": {"api": 3, "loaded": 2},
        "b": {"api": 2, "loaded": 0},
    }


def test_missing_partitions_only_between_the_first_and_last_loaded() -> None:
    keys = ["d1", "d2", "d3", "d4", "d5", "d6"]
    assert missing_partitions({"d2", "d3", "d5"}, keys) == ["d4"]
    assert missing_partitions({"d2", "d3"}, keys) == []
    assert missing_partitions(set(), keys) == []


def _load(instance: dg.DagsterInstance, *days: str) -> None:
    for day in days:
        instance.report_runless_asset_event(dg.AssetMaterialization(AUDIT_EVENTS_KEY, partition=day))


def test_a_run_by_hand_catches_up_from_the_first_day_never_loaded(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with dg.DagsterInstance.ephemeral() as instance:
        assert event_days_to_load(instance, warehouse, NOW) == ("2026-05-27", "2026-11-21")  # fresh: 180 days
        _load(instance, *retained_partition_keys(NOW))
        # The instance says every day is loaded, but this warehouse (a new data folder) has no events.
        assert event_days_to_load(instance, warehouse, NOW) == ("2026-05-27", "2026-11-21")
        with duckdb.connect(str(warehouse)) as con:
            con.execute("create schema raw; create table raw.audit_events as select 'e1' as event_id")
        assert event_days_to_load(instance, warehouse, NOW) == ("2026-11-21", "2026-11-21")  # only the newest
        later = NOW + timedelta(days=3)
        assert event_days_to_load(instance, warehouse, later) == (
            "2026-11-22",
            "2026-11-24",
        )  # the days missed


def test_one_day_is_a_plain_partition_and_several_a_range() -> None:
    assert partition_tags("2026-11-21", "2026-11-21") == {}
    assert partition_tags("2026-11-20", "2026-11-21") == {
        "dagster/asset_partition_range_start": "2026-11-20",
        "dagster/asset_partition_range_end": "2026-11-21",
    }


def test_without_dagster_home_the_data_folder_has_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME")
    assert ensure_dagster_home(tmp_path / "data") == tmp_path / "data" / ".dagster"
    assert (tmp_path / "data" / ".dagster" / "dagster.yaml").exists()
