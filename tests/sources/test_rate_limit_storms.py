"""Issue 17: a storm of 30 429s, at the start or in the middle of the extract, for both last-active
strategies: the run waits for the windows (saying so), uses no attempts on them, and loads the same rows
as a run without the storm."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pipeline.extract.run import run_extract
from pipeline.simulator.model import FaultConfig
from pipeline.simulator.server import start_in_thread
from tests.sources.helpers import make_world, query, settings_for
from tests.sources.test_extract_robustness import TABLES

USERS = 120
STORM = 30
_clean: dict[str, dict] = {}


def _extract(data_dir: Path, strategy: str, *, storm_at_call: int | None) -> tuple[dict, object]:
    # Windows of one second, so that 30 refusals in a row cost about a minute, not half an hour.
    world = make_world(USERS, faults=FaultConfig(), rate_window_seconds=1)
    with start_in_thread(world) as simulator:
        calls = 0

        def storm() -> None:
            answer = httpx.post(
                f"{simulator.base_url}/_simulator/faults",
                json={"storm_requests": STORM},
                headers={"Authorization": f"Bearer {world.api_key}"},
            )
            answer.raise_for_status()

        def on_call(bucket: str, status: int | None) -> None:
            nonlocal calls
            calls += 1
            if calls == storm_at_call:
                storm()

        if storm_at_call == 0:
            storm()
        settings = settings_for(
            world, data_dir, base_url=simulator.base_url, SEATWATCH_LAST_ACTIVE_STRATEGY=strategy
        )
        result = run_extract(settings, client_options={"max_attempts": 3, "on_call": on_call})
    return {name: query(settings, sql) for name, sql in TABLES.items()}, result


# Both strategies and both moments, in two runs rather than four: each storm is ~40 s of waiting out
# one-second windows, and the waiting code is the client's, shared by every call whatever the strategy.
# The mid-run storm goes to per_user, whose concurrent fan-out is where a storm is hardest to wait out.
@pytest.mark.slow
@pytest.mark.parametrize(
    ("when", "strategy"),
    [("at-start", "bulk"), ("mid-run", "per_user")],
    ids=["at-start-bulk", "mid-run-per_user"],
)
def test_a_429_storm_is_waited_out_and_changes_no_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], strategy: str, when: str
) -> None:
    # Mid-run: per_user makes about 140 calls; at the 50th the last-active fan-out is under way.
    storm_at_call = 0 if when == "at-start" else 50
    if strategy not in _clean:
        _clean[strategy], _ = _extract(tmp_path / "clean", strategy, storm_at_call=None)
    capsys.readouterr()
    rows, result = _extract(tmp_path / "storm", strategy, storm_at_call=storm_at_call)
    assert rows == _clean[strategy]
    stats = next(iter(result.api_stats.values()))
    # Every storm refusal was waited out with 3 attempts per request; the fan-out did not keep
    # running into the limit afterwards.
    assert STORM <= stats.rate_limited <= STORM + 10
    waiting = [line for line in capsys.readouterr().err.splitlines() if line.startswith("rate-limited")]
    assert waiting and all("resuming at " in line for line in waiting)
