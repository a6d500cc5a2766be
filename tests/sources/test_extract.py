"""Issue acceptance: the raw tables match the simulator's truth, exactly once, across runs and strategies."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.simulator.world import World
from tests.support.extract import (
    extract_in_process,
    make_world,
    query,
    raw_last_active,
    settings_for,
    truth_last_active,
)

EVENTS_STREAM = "GET /v1/orgs/{}/events-stream"


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(500)


def _current_users(world: World) -> set[tuple[str, str]]:
    return {(u["org_id"], u["account_id"]) for u in world.truth()["users"] if not u["removed_at"]}


def _event_ids(world: World) -> set[tuple[str, str]]:
    return {(org_id, event.id) for org_id in world.orgs for event in world.audit_events(org_id)}


def test_raw_tables_match_the_truth_and_runs_never_duplicate(world: World, tmp_path: Path) -> None:
    settings = settings_for(world, tmp_path)
    first = extract_in_process(world, settings)

    users = set(query(settings, "select org_id, account_id from raw.users"))
    assert users == _current_users(world) and len(users) == 500
    assert raw_last_active(settings) == truth_last_active(world)
    events = query(settings, "select org_id, event_id from raw.audit_events")
    assert len(events) == len(set(events)) and set(events) == _event_ids(world)
    (run,) = query(settings, "select extracted_at, as_of_date, users_loaded, status from raw.extract_runs")
    assert run[0] == world.now and str(run[1]) == world.truth()["as_of_date"]
    assert run[2:] == (500, "success")
    stats = first.api_stats[next(iter(world.orgs))]
    assert stats.rate_limited == 0
    # Groups feed three tables but are listed once (5 groups pages would mean a listing per table).
    groups_calls = [b.calls for key, b in stats.by_bucket.items() if key.endswith("/groups/search")]
    assert groups_calls == [1]

    counts = """select (select count(*) from raw.users), (select count(*) from raw.user_product_last_active),
                       (select count(*) from raw.audit_events), (select count(*) from raw.user_snapshots)"""
    before = query(settings, counts)
    extract_in_process(world, settings)
    assert query(settings, counts) == before, "a second run on the same day adds nothing"

    # A day later: only the new events (one events-stream call from the stored cursor), new observations.
    world.advance(1)
    third = extract_in_process(world, settings)
    org_id = next(iter(world.orgs))
    assert third.api_stats[org_id].bucket(EVENTS_STREAM).calls == 1
    events = query(settings, "select org_id, event_id from raw.audit_events")
    assert len(events) == len(set(events))
    assert _event_ids(world) <= set(events)
    (loaded,) = query(
        settings, "select events_loaded from raw.extract_runs order by extracted_at desc limit 1"
    )[0]
    assert 0 < loaded == len(set(events)) - before[0][2]
    assert raw_last_active(settings) == truth_last_active(world)
    snapshots = query(
        settings, "select snapshot_date, count(*) from raw.user_snapshots group by 1 order by 1"
    )
    assert len(snapshots) == 2


def test_per_user_and_bulk_strategies_load_identical_rows(tmp_path: Path) -> None:
    # Same org, generous limits: this compares rows; pacing has its own tests and benchmark.
    # v1 keys everywhere: raw keeps what each endpoint said, and with v2 keys the bulk rows say `jira` where
    # last-active-dates says `jira-software` (staging normalises both; tests/test_identity_variants.py).
    world = make_world(
        500, product_keys="v1", rate_limits={"events": 10, "last_active": 100_000, "default": 100_000}
    )
    tables = {
        "users": "select * exclude (_dlt_load_id, _dlt_id, run_id) from raw.users order by all",
        "last_active": "select * exclude (_dlt_load_id, _dlt_id) "
        "from raw.user_product_last_active order by all",
    }
    loaded = {}
    for strategy in ("bulk", "per_user"):
        settings = settings_for(world, tmp_path / strategy, SEATWATCH_LAST_ACTIVE_STRATEGY=strategy)
        result = extract_in_process(world, settings)
        loaded[strategy] = {name: query(settings, sql) for name, sql in tables.items()}
        calls = result.api_stats[next(iter(world.orgs))]
        loaded[strategy]["last_active_calls"] = calls.bucket(
            "GET /v1/orgs/{}/directory/users/{}/last-active-dates"
        ).calls
    assert loaded["bulk"]["users"] == loaded["per_user"]["users"]
    assert loaded["bulk"]["last_active"] == loaded["per_user"]["last_active"]
    assert len(loaded["bulk"]["last_active"]) > 300
    assert loaded["bulk"]["last_active_calls"] == 0
    assert loaded["per_user"]["last_active_calls"] == 500


def test_per_user_calls_only_when_the_run_loads_last_active_dates(tmp_path: Path) -> None:
    """The per-user listing reads last-active dates with its pages, ahead of the transformer: a run that
    loads only some tables (a Dagster materialisation of ``users``) must not make those calls."""
    world = make_world(30)
    last_active = "GET /v1/orgs/{}/directory/users/{}/last-active-dates"
    calls = {}
    for name, resources in {"users": ["users"], "both": ["users", "user_product_last_active"]}.items():
        settings = settings_for(world, tmp_path / name, SEATWATCH_LAST_ACTIVE_STRATEGY="per_user")
        result = extract_in_process(world, settings, resources=resources)
        calls[name] = result.api_stats[next(iter(world.orgs))].bucket(last_active).calls
    assert calls == {"users": 0, "both": 30}


def test_several_orgs_load_in_one_run_and_every_row_carries_its_org(tmp_path: Path) -> None:
    world = make_world(120, orgs=2)
    settings = settings_for(world, tmp_path)
    assert len(settings.orgs) == 2
    result = extract_in_process(world, settings)
    assert set(result.api_stats) == set(world.orgs)
    assert set(query(settings, "select org_id, account_id from raw.users")) == _current_users(world)
    assert raw_last_active(settings) == truth_last_active(world)
    for table in ("users", "audit_events", "group_memberships", "workspaces", "extract_runs"):
        orgs = {row[0] for row in query(settings, f"select distinct org_id from raw.{table}")}
        assert orgs == set(world.orgs), table
