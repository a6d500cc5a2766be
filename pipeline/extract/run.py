"""Extract and load: the Admin API into DuckDB ``raw`` with dlt, for every caller.

:func:`run_extract` is the one extract path: ``seatwatch extract``, the Dagster asset of ``seatwatch run``,
the schedule and the UI, and the benchmarks all call it, and it is the only place that calls dlt's
``pipeline.run``. Credentials are checked for every org before anything is written, so a wrong key ends the
run with one line and an untouched warehouse.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo

from pipeline.atlassian.client import ApiStats
from pipeline.atlassian.clock import clock_gap
from pipeline.config.errors import user_error
from pipeline.config.offline import apply_offline_defaults
from pipeline.config.settings import Settings
from pipeline.config.shared import ProgressFn
from pipeline.runtime.run_records import SUCCESS, set_status
from pipeline.sources.atlassian_admin import LOADED_AFTER_DATA, OrgSession, RunInfo, atlassian_admin
from pipeline.warehouse import check_unlocked, ensure_warehouse

PIPELINE_NAME = "seatwatch"
DATASET_NAME = "raw"
# Without pyarrow dlt would load DuckDB through huge INSERT statements, whose time and memory grow far faster
# than the rows; JSON lines load through DuckDB's own reader (measured in benchmarks/README.md).
LOADER_FILE_FORMAT = "jsonl"
READ_AHEAD_PAGES = 2
# Requests in flight for the per-user fan-outs (the client's default is 8): at 50 ms latency 16 halve the
# per_user strategy's time; the pacer still holds the API's rate (300/min: 600 calls in 120.5 s, 0 × 429,
# benchmarks/README.md).
EXTRACT_CONCURRENCY = 16


@dataclass(frozen=True)
class ExtractResult:
    run_id: str
    load_info: LoadInfo
    api_stats: dict[str, ApiStats]  # org_id → calls, retries, 429s (in total and per endpoint)
    # org_id → the API's clock minus ours when the run started, in seconds (positive: the API is ahead).
    clock_offsets: dict[str, float] = field(default_factory=dict)
    # org_id → the API's own user count, asked right after the load (only when ``count_users`` was set).
    api_user_counts: dict[str, int] = field(default_factory=dict)
    rows_loaded: dict[str, int] = field(default_factory=dict)  # table → rows this run loaded


def clock_warning(offsets: Mapping[str, float]) -> str | None:
    """One line when the API's clock and ours disagree by more than a few minutes, else None."""
    worst = max(offsets.items(), key=lambda item: abs(item[1]), default=None)
    gap = None if worst is None else clock_gap(worst[1])
    if worst is None or gap is None:
        return None
    org_id = worst[0]
    return (
        f"seatwatch: note: the API's clock (org {org_id}) is {gap} this machine's; "
        "Seatwatch follows the API's clock, so nothing is lost, but check this machine's time if that is a "
        "surprise."
    )


def make_pipeline(settings: Settings) -> dlt.Pipeline:
    """The dlt pipeline writing ``raw`` in the warehouse; its working folder stays inside the data dir."""
    apply_offline_defaults()
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

    # Two pages read ahead: the next page's round trip overlaps with dlt's work on this one (the extract
    # reads every listing to its end, so no call is made that reading page by page would not make).
    options = {
        "max_rate_limited_wait": settings.rate_limit_max_wait_seconds,
        "read_ahead": READ_AHEAD_PAGES,
        "max_concurrency": EXTRACT_CONCURRENCY,
        **(client_options or {}),
    }
    with ExitStack() as stack:
        sessions = []
        for org in settings.orgs:
            api = stack.enter_context(SyncAdminApi(settings.api_base_url, org.api_key, **options))
            api.get_org(org.org_id)  # 401 / 404 surface here as one-line typed errors
            sessions.append(OrgSession(org.org_id, api))
        yield sessions


def unwrap_error(error: BaseException) -> BaseException:
    """dlt wraps exceptions raised inside resources; find ours (or DuckDB's lock error, as ours) so the CLI
    can print its one line."""
    return user_error(error) or error


def run_extract(
    settings: Settings,
    *,
    run_id: str | None = None,
    resources: Sequence[str] | None = None,
    progress: ProgressFn | None = None,
    client_options: Mapping[str, Any] | None = None,
    count_users: bool = False,
    completes_run: bool = True,
) -> ExtractResult:
    """Load the raw tables (all, or ``resources``) for the configured orgs and return what was loaded.

    The run record says ``running`` until the run is done: here once the load has finished, unless
    ``completes_run`` is False (a Dagster run, whose publishing step records the outcome; see
    :mod:`pipeline.runtime.run_records`).
    """
    run = RunInfo(
        run_id=run_id or uuid.uuid4().hex,
        activity_lag_hours=settings.activity_lag_hours,
        strategy=settings.last_active_strategy,
        tables=None if resources is None else frozenset(resources),
    )
    with open_sessions(settings, client_options=client_options) as sessions:
        local_now = datetime.now(UTC)
        offsets = {s.org_id: (s.api.server_now() - local_now).total_seconds() for s in sessions}
        ensure_warehouse(settings.warehouse_path)
        check_unlocked(settings.warehouse_path)
        pipeline = make_pipeline(settings)
        # A package left by a crashed run would otherwise be loaded first, or block new data.
        pipeline.abort_packages()
        source = atlassian_admin(sessions, run, progress)
        selected = [name for name in (resources or source.resources) if name not in LOADED_AFTER_DATA]
        # Two packages in one run, data first: the run record counts what the data resources extracted and
        # the read failures are what their fan-outs could not read, so both must be extracted after them
        # (dlt extracts the sources of one run one after the other).
        later = [name for name in LOADED_AFTER_DATA if resources is None or name in resources]
        packages = [source.with_resources(*selected)] if selected else []
        if later:
            packages.append(source.with_resources(*later))
        try:
            load_info = pipeline.run(packages, loader_file_format=LOADER_FILE_FORMAT)
        except Exception as error:
            raise unwrap_error(error) from None
        if completes_run:
            set_status(settings.warehouse_path, [run.run_id], SUCCESS)  # loaded completely: the run is done
        stats = {session.org_id: session.api.stats for session in sessions}
        normalized = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
        rows = dict(normalized.row_counts) if normalized else {}
        # Asked right after the load, so the API has had the least time to change in between.
        counts = {s.org_id: s.api.count_users(s.org_id) for s in sessions} if count_users else {}
    return ExtractResult(run.run_id, load_info, stats, offsets, counts, rows)
