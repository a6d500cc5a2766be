"""One run per data folder: a second one waits (saying so), times out with exit 1, or refuses at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.runtime.locking import WarehouseBusyError, data_folder_lock, wait_for_holder


def test_a_second_run_says_who_holds_the_folder_and_gives_up_after_the_timeout(tmp_path: Path) -> None:
    said: list[str] = []
    sleeps: list[float] = []
    with (
        data_folder_lock(tmp_path, timeout_seconds=60, say=said.append),
        pytest.raises(WarehouseBusyError, match="Gave up after 3 s") as raised,
        data_folder_lock(tmp_path, timeout_seconds=3, say=said.append, sleep=sleeps.append),
    ):
        pass
    assert raised.value.exit_code == 1
    [line] = said
    assert line.startswith("Waiting for seatwatch run (pid ") and "since" in line
    assert sleeps and min(sleeps) >= 1.0  # it sleeps between tries instead of spinning


def test_timeout_zero_refuses_at_once(tmp_path: Path) -> None:
    with (
        data_folder_lock(tmp_path, timeout_seconds=60, say=print),
        pytest.raises(WarehouseBusyError, match="run again when it has finished"),
        data_folder_lock(tmp_path, timeout_seconds=0, say=print),
    ):
        pass


def test_the_lock_is_free_again_after_the_holder_ends(tmp_path: Path) -> None:
    with data_folder_lock(tmp_path, timeout_seconds=0, say=print):
        pass
    with data_folder_lock(tmp_path, timeout_seconds=0, say=print):
        pass


def test_a_waiting_run_goes_on_once_the_holder_is_gone(tmp_path: Path) -> None:
    # The same rule serves a live run launched from the Dagster UI (pipeline.commands.guard).
    said: list[str] = []
    sleeps: list[float] = []
    answers = iter([False, True])
    wait_for_holder(
        "Dagster run 1a2b3c4d (started 08:00:00 UTC)",
        lambda: next(answers),
        data_dir=tmp_path,
        timeout_seconds=60,
        say=said.append,
        sleep=sleeps.append,
        poll_seconds=2.0,
    )
    assert said == [
        f"Waiting for Dagster run 1a2b3c4d (started 08:00:00 UTC) to finish with {tmp_path} (at most 60 s)..."
    ]
    assert sleeps == [2.0]
