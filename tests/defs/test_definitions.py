"""The code location: it loads without credentials, and its graph reads raw → … → published."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from pipeline.config.paths import PROJECT_ROOT
from pipeline.config.shared import DAILY_JOB_NAME
from pipeline.definitions import defs
from pipeline.defs.pools import DUCKDB_POOL
from pipeline.defs.schedules import daily_schedule

# The reclaim journal is written beside raw (by seatwatch reclaim), and read by staging like raw.
GROUP_ORDER = ["raw", "reclaim", "staging", "intermediate", "marts", "published", "policy"]


@pytest.fixture(scope="module")
def graph():
    return defs.get_repository_def().asset_graph


def _key(text: str) -> dg.AssetKey:
    return dg.AssetKey.from_user_string(text)


@pytest.mark.slow
def test_dagster_validates_the_definitions_without_credentials(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ATLASSIAN_")}
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(  # noqa: S603 (a fixed argv)
        [str(dagster), "definitions", "validate", "-m", "pipeline.definitions"],
        cwd=PROJECT_ROOT,
        env={**env, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_asset_keys_and_groups(graph) -> None:
    expected = {
        "dlt_atlassian_admin_users": "raw",
        "dlt_atlassian_admin_user_product_last_active": "raw",
        "dlt_atlassian_admin_audit_events": "raw",
        "dlt_atlassian_admin_extract_runs": "raw",
        "staging/stg_atlassian__users": "staging",
        "marts/dim_users": "marts",
        "marts/fct_user_product_access": "marts",
        "marts/pipeline_runs": "marts",
        "published_copy": "published",
    }
    for key, group in expected.items():
        assert graph.get(_key(key)).group_name == group, key
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == set(GROUP_ORDER)


def test_every_asset_is_produced_here(graph) -> None:
    # A dbt source whose meta.dagster.asset_key names no dlt resource would show as an orphan node.
    # The exceptions: the reclaim journal, recorded by the seatwatch_reclaim_apply job (and written by
    # `seatwatch reclaim`), never by "materialize all"; and the notices journal the policy step writes.
    keys = graph.get_all_asset_keys()
    assert sorted(key.to_user_string() for key in keys if not graph.get(key).is_materializable) == [
        "reclaim_journal",
        "reclaim_notices_journal",
    ]


def test_direct_dependencies(graph) -> None:
    def parents(key: str) -> set[str]:
        return {parent.to_user_string() for parent in graph.get(_key(key)).parent_keys}

    assert parents("dlt_atlassian_admin_users") == set()  # no fake upstream from dagster-dlt
    assert parents("staging/stg_atlassian__users") == {"dlt_atlassian_admin_users"}
    # raw.user_snapshots is written by the `users` resource, so it is the same asset.
    assert parents("staging/stg_atlassian__user_snapshots") == {"dlt_atlassian_admin_users"}
    assert parents("staging/stg_atlassian__audit_events") == {"dlt_atlassian_admin_audit_events"}
    marts = {key.to_user_string() for key in graph.get_all_asset_keys() if key.path[0] == "marts"}
    assert "marts/dim_users" in marts
    assert parents("published_copy") == marts


def test_lineage_runs_through_every_layer_in_order(graph) -> None:
    def ancestors(key: dg.AssetKey) -> set[dg.AssetKey]:
        seen, pending = set(), [key]
        while pending:
            for parent in graph.get(pending.pop()).parent_keys:
                if parent not in seen:
                    seen.add(parent)
                    pending.append(parent)
        return seen

    above_dim_users = {graph.get(key).group_name for key in ancestors(_key("marts/dim_users"))}
    assert {"raw", "staging", "intermediate"} <= above_dim_users
    assert _key("dlt_atlassian_admin_users") in ancestors(_key("published_copy"))
    for key in graph.get_all_asset_keys():  # no edge points back to an earlier layer
        rank = GROUP_ORDER.index(graph.get(key).group_name)
        for parent in graph.get(key).parent_keys:
            assert GROUP_ORDER.index(graph.get(parent).group_name) <= rank, (parent, key)


def test_every_writer_claims_the_duckdb_pool() -> None:
    repo = defs.get_repository_def()
    for assets_def in repo.assets_defs_by_key.values():
        if assets_def.is_executable:
            assert assets_def.node_def.pool == DUCKDB_POOL, assets_def.node_def.name


def test_checks(graph) -> None:
    checks = {key.to_user_string() for key in graph.asset_check_keys}
    assert {
        "dlt_atlassian_admin_extract_runs:activity_is_fresh",
        "dlt_atlassian_admin_users:users_match_api_count",
    } <= checks
    assert any(check.startswith("marts/") for check in checks)  # dbt tests, as asset checks


def test_the_reclaim_job_is_never_part_of_the_daily_job(graph) -> None:
    from pipeline.config.shared import RECLAIM_JOB_NAME
    from pipeline.defs.reclaim import RECLAIM_JOURNAL_KEY

    daily = defs.resolve_job_def(DAILY_JOB_NAME)
    assert RECLAIM_JOURNAL_KEY not in daily.asset_layer.executable_asset_keys
    assert _key("marts/reclaim_actions") in daily.asset_layer.executable_asset_keys
    assert RECLAIM_JOURNAL_KEY in graph.get(_key("staging/stg_reclaim__actions")).parent_keys
    reclaim = defs.resolve_job_def(RECLAIM_JOB_NAME)
    assert reclaim.executor_def.name == "in_process" and not reclaim.asset_layer.executable_asset_keys
    assert all(schedule.job_name != RECLAIM_JOB_NAME for schedule in defs.schedules or [])


def test_the_policy_step_follows_the_published_copy_in_the_daily_job(graph) -> None:
    from pipeline.defs.policy import RECLAIM_NOTICES_KEY
    from pipeline.readers.run_history import PUBLISHED_COPY_KEY

    daily = defs.resolve_job_def(DAILY_JOB_NAME)
    policy = dg.AssetKey("reclaim_policy")
    assert policy in daily.asset_layer.executable_asset_keys
    assert graph.get(policy).parent_keys == {dg.AssetKey(PUBLISHED_COPY_KEY)}
    assert RECLAIM_NOTICES_KEY not in daily.asset_layer.executable_asset_keys
    assert RECLAIM_NOTICES_KEY in graph.get(_key("staging/stg_reclaim__notices")).parent_keys


def test_the_daily_job_runs_in_process_over_the_whole_graph(graph) -> None:
    job = defs.resolve_job_def(DAILY_JOB_NAME)
    assert job.executor_def.name == "in_process"
    assert set(job.asset_layer.executable_asset_keys) == set(graph.materializable_asset_keys)


def test_the_daily_tick_at_0115_runs_the_whole_unpartitioned_graph() -> None:
    tick = datetime(2026, 11, 23, 1, 15, tzinfo=UTC)
    schedule = defs.get_repository_def().get_schedule_def(daily_schedule.name)
    assert schedule.cron_schedule == "15 1 * * *"
    assert schedule.execution_timezone == "UTC"
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=tick, repository_def=defs.get_repository_def()
        )
        result = schedule.evaluate_tick(context)
    [request] = result.run_requests
    # No partitions: the run reads the audit log from where the last load stopped (nothing to describe).
    assert request.partition_key is None
    assert defs.resolve_job_def(DAILY_JOB_NAME).partitions_def is None


def test_one_freshness_rule_for_dbt_the_check_and_status() -> None:
    import json

    from pipeline.config.freshness import stale_after_hours
    from pipeline.defs.transform import dbt_project

    sources = json.loads(dbt_project.manifest_path.read_text())["sources"]
    fresh = {
        node["name"]: (node["loaded_at_field"], node["freshness"]["error_after"])
        for node in sources.values()
        if (node.get("freshness") or {}).get("error_after", {}).get("count") is not None
    }
    assert fresh == {"extract_runs": ("activity_complete_through", {"count": 48, "period": "hour"})}
    assert stale_after_hours() == 48
    check = next(
        spec
        for spec in defs.get_repository_def().asset_graph.asset_check_keys
        if spec.name == "activity_is_fresh"
    )
    assert check is not None
