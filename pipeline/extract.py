"""Extract and load: the Admin API into DuckDB ``raw`` with dlt.

The same function backs ``seatwatch extract``, ``seatwatch run`` and the Dagster dlt asset (which passes its
own pipeline and run id). Credentials are checked for every org before anything is written, so a wrong key
ends the run with one line and an untouched warehouse.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo

from pipeline.atlassian.client import ApiStats
from pipeline.errors import SeatwatchError
from pipeline.offline import apply_offline_defaults
from pipeline.runtime.run_records import SUCCESS, set_status
from pipeline.settings import Settings
from pipeline.sources.atlassian_admin import (
    EventsWindow,
    OrgSession,
    ProgressFn,
    RunInfo,
    atlassian_admin,
)
from pipeline.warehouse import ensure_warehouse

PIPELINE_NAME = "seatwatch"
DATASET_NAME = "raw"
# Without pyarrow dlt would load DuckDB through huge INSERT statements: at 5,000 users that took 10 s and
# 2.6 GB of memory to load; JSON lines load the same rows in 1 s and 330 MB (benchmarks/bench_scale.py).
LOADER_FILE_FORMAT = "jsonl"


@dataclass(frozen=True)
class ExtractResult:
    run_id: str
    load_info: LoadInfo
    api_stats: dict[str, ApiStats]  # org_id → calls, retries, 429s (in total and per endpoint)


def make_pipeline(settings: Settings) -> dlt.Pipeline:
    """The dlt pipeline writing ``raw`` in the warehouse; its working folder stays inside the data dir."""
    apply_offline_defaults()
    # Resources run one after another so `extract_runs`, the last one, sees every count.
    os.environ.setdefault("EXTRACT__NEXT_ITEM_MODE", "fifo")
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=dlt.destinations.duckdb(str(settings.warehouse_path)),
        dataset_name=DATASET_NAME,
        pipelines_dir=str(settings.data_dir / ".dlt"),
    )


@contextmanager
def open_sessions(
    settings: Settings, *, client_options: Mapping[str, Any] | None = None
) -> Iterator[list[OrgSession]]:
    """One API client per org, each checked with a cheap call before the run writes anything.

    ``client_options`` go to :class:`pipeline.atlassian.AdminClient` (tests pass an in-process transport or
    a short timeout).
    """
    from pipeline.atlassian import SyncAdminApi

    options = {"max_rate_limited_wait": settings.rate_limit_max_wait_seconds, **(client_options or {})}
    with ExitStack() as stack:
        sessions = []
        for org in settings.orgs:
            api = stack.enter_context(SyncAdminApi(settings.api_base_url, org.api_key, **options))
            api.get_org(org.org_id)  # 401 / 404 surface here as one-line typed errors
            sessions.append(OrgSession(org.org_id, api))
        yield sessions


def unwrap_error(error: BaseException) -> BaseException:
    """dlt wraps exceptions raised inside resources; find ours so the CLI can print its one line."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, SeatwatchError):
            return current
        pending += [getattr(current, "exception", None), current.__cause__, current.__context__]
    return error


def run_extract(
    settings: Settings,
    *,
    run_id: str | None = None,
    events_window: EventsWindow | None = None,
    resources: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> ExtractResult:
    """Load every raw table for the configured orgs and return what was loaded."""
    run = RunInfo(
        run_id=run_id or uuid.uuid4().hex,
        activity_lag_hours=settings.activity_lag_hours,
        strategy=settings.last_active_strategy,
        events_window=events_window,
    )
    with open_sessions(settings, client_options=client_options) as sessions:
        ensure_warehouse(settings.warehouse_path)
        pipeline = make_pipeline(settings)
        # A package left by a crashed run would otherwise be loaded first, or block new data.
        pipeline.abort_packages()
        source = atlassian_admin(sessions, run, progress)
        if resources:
            source = source.with_resources(*resources)
        try:
            load_info = pipeline.run(source, loader_file_format=LOADER_FILE_FORMAT)
        except Exception as error:
            raise unwrap_error(error) from None
        set_status(settings.warehouse_path, [run.run_id], SUCCESS)  # loaded completely: the run is done
        stats = {session.org_id: session.api.stats for session in sessions}
    return ExtractResult(run.run_id, load_info, stats)
