"""A storm of 429s against the real extract, with rate windows of one second: shared by the suite's storm test
(five refusals) and ``benchmarks/bench_storm.py`` (issue 17's thirty).

Each refusal names its window, read from headers of one-second resolution, so a storm of N costs about 2N
seconds of real waiting: the suite keeps N small and the benchmark proves the full-size storm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from pipeline.atlassian import ApiStats
from pipeline.extract.run import run_extract
from pipeline.simulator.model import FaultConfig
from pipeline.simulator.server import start_in_thread
from tests.support.extract import TABLES, make_world, query, settings_for

# The two moments a storm can hit: before the first call, or mid-run, i.e. at about the middle of the calls a
# strategy makes on 120 users (bulk ~22; per_user ~140, whose last-active fan-out is under way at the 50th,
# where a storm is hardest to wait out).
AT_START = 0
MID_RUN = {"bulk": 10, "per_user": 50}


def extract_through_storm(
    data_dir: Path, strategy: str, *, users: int, storm: int, storm_at_call: int | None
) -> tuple[dict[str, list[Any]], ApiStats]:
    """The raw tables the extract loaded and its client's statistics; ``storm_at_call=None``: no storm."""
    world = make_world(users, faults=FaultConfig(), rate_window_seconds=1)
    with start_in_thread(world) as simulator:
        calls = 0

        def start_storm() -> None:
            answer = httpx.post(
                f"{simulator.base_url}/_simulator/faults",
                json={"storm_requests": storm},
                headers={"Authorization": f"Bearer {world.api_key}"},
            )
            answer.raise_for_status()

        def on_call(bucket: str, status: int | None) -> None:
            nonlocal calls
            calls += 1
            if calls == storm_at_call:
                start_storm()

        if storm_at_call == AT_START:
            start_storm()
        settings = settings_for(
            world, data_dir, base_url=simulator.base_url, SEATWATCH_LAST_ACTIVE_STRATEGY=strategy
        )
        result = run_extract(settings, client_options={"max_attempts": 3, "on_call": on_call})
    return {name: query(settings, sql) for name, sql in TABLES.items()}, next(iter(result.api_stats.values()))
