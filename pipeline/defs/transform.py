"""dbt: staging → intermediate → marts, built in one ``dbt build`` (seeds, models, snapshots, data tests).

The dbt assets are not partitioned: every model rebuilds from everything in ``raw``, so a run for any
events partition (or none) leaves the marts consistent with the warehouse. dbt tests become asset checks
(dagster-dbt's default).
"""

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipeline.config.offline import apply_offline_defaults
from pipeline.config.settings import Settings
from pipeline.config.shared import FINAL, ProgressFn
from pipeline.defs.dbt_project import seatwatch_dbt_project
from pipeline.defs.pools import DUCKDB_POOL
from pipeline.defs.translator import SeatwatchDbtTranslator
from pipeline.warehouse import check_unlocked

dbt_project = seatwatch_dbt_project()
# dbt's artefacts go to one folder per data folder, instead of dagster-dbt's new folder per invocation: the
# folder does not grow with every run, dbt finds the partial-parse state of that warehouse's previous run
# there (the warehouse path is a var, and a changed var means a full parse anyway), and runs against two
# data folders never share artefacts. Within a data folder dbt steps never overlap (duckdb_writer pool).
DBT_TARGET_DIR = ".dbt"
# dbt unit tests check the SQL logic against fixed inputs, not the data: they belong to the test suite, not
# to every run. Data tests still run, as asset checks.
BUILD_ARGS = ["build", "--exclude-resource-type", "unit_test"]


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="dbt_models",
    dagster_dbt_translator=SeatwatchDbtTranslator(),
    pool=DUCKDB_POOL,
)
def dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    settings: dg.ResourceParam[Settings],
    progress: dg.ResourceParam[ProgressFn],
) -> Iterator[Any]:
    # The warehouse and DuckDB's memory limit go to profiles.yml as vars: DbtCliResource.cli() takes no
    # environment of its own.
    profile_vars = json.dumps(
        {"warehouse_path": str(settings.warehouse_path), "duckdb_memory_limit": settings.duckdb_memory_limit}
    )
    apply_offline_defaults()  # DO_NOT_TRACK and friends, unless the user chose otherwise
    check_unlocked(settings.warehouse_path)  # dbt would report a lock only deep in its log
    # A data test that fails is a failed check, not a failed step: the marts are built (a blocking test sits
    # on a leaf, so nothing is skipped) and published, and the run reports the check. Anything else that
    # goes wrong (a model error, a skipped node) fails the step, as dbt's exit code would.
    invocation = dbt.cli(
        [*BUILD_ARGS, "--vars", profile_vars],
        context=context,
        target_path=settings.data_dir / DBT_TARGET_DIR,
        raise_on_error=False,
    )
    # One event per model, seed and test that finished: counted for the terminal.
    total = len(context.selected_asset_keys) + len(context.selected_asset_check_keys)
    tests = failed = 0
    for done, event in enumerate(invocation.stream(), start=1):
        if isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation):
            tests += 1
            failed += not event.passed
        if done < total:
            progress("dbt build", {"done": done, "total": total})
        yield event
    progress("dbt build", {"models": total - tests, "tests": tests, "tests failed": failed, FINAL: True})
    if out_of_memory(invocation):
        raise dg.Failure(
            f"dbt ran out of memory (SEATWATCH_DUCKDB_MEMORY_LIMIT is {settings.duckdb_memory_limit}): "
            "raise it (e.g. to 1GB) and run again."
        )
    broken = build_errors(invocation)
    if broken:
        raise dg.Failure(f"dbt build failed at {', '.join(broken[:3])}; `seatwatch run --verbose` shows why.")


# DuckDB's words when an operator that cannot spill to disk needs more than its memory_limit.
OUT_OF_MEMORY = "Out of Memory Error"


def out_of_memory(invocation: Any) -> bool:
    """Whether dbt failed because DuckDB hit its memory limit, in a node or before any (dbt's error log
    lines, as dagster-dbt collects them)."""
    return not invocation.is_successful() and OUT_OF_MEMORY in str(invocation.get_error() or "")


def build_errors(invocation: Any) -> list[str]:
    """Nodes that errored or were skipped; empty when dbt succeeded or only data tests failed."""
    if invocation.is_successful():
        return []
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except FileNotFoundError:
        return ["the project (no run results)"]
    broken = [r["unique_id"] for r in results if r["status"] in ("error", "runtime error", "skipped")]
    return broken or ([] if any(r["status"] == "fail" for r in results) else ["dbt (see its log)"])
