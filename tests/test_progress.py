import io
from types import SimpleNamespace

import pytest

from pipeline.commands import progress as progress_module
from pipeline.commands.progress import StderrProgress
from pipeline.config.shared import ELAPSED, FINAL


class FakeClock:
    """A monotonic clock that starts where a machine booted a few seconds ago would be."""

    def __init__(self, now: float = 5.0) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(progress_module, "time", SimpleNamespace(monotonic=fake.monotonic))
    return fake


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_step_ends_with_its_last_count_before_the_next_step_starts() -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, interval=0)
    for fetched in (100, 300):
        progress("users", {"org_id": "o1", "users": fetched})
    for done in (1, 3):
        progress("last_active", {"org_id": "o1", "done": done, "total": 3})
    progress("dbt build", {"models": 5, "tests": 9, ELAPSED: 12.5, FINAL: True})
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[:2] == ["users [o1]: users 100", "users [o1]: users 300"]
    assert lines[2].startswith("users [o1]: users 300  (") and lines[2].endswith(" s)")
    assert lines[3] == "last_active [o1]: 1/3"
    assert lines[4].startswith("last_active [o1]: 3/3  (")
    assert lines[5:] == ["dbt build: models 5, tests 9  (12.5 s)"]


def test_a_log_gets_only_the_final_line_of_a_short_step() -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, interval=3600)
    for fetched in (100, 200, 300):
        progress("users", {"org_id": "o1", "users": fetched})
    progress("publish", {"copy": "x.duckdb"})
    progress.close()
    lines = [line.split("  (")[0] for line in stream.getvalue().splitlines()]
    assert lines == ["users [o1]: users 300", "publish: copy x.duckdb"]


def test_a_terminal_keeps_one_final_line_per_step() -> None:
    stream = _Terminal()
    progress = StderrProgress(stream)
    progress("users", {"users": 1})
    progress("users", {"users": 2})
    progress("publish", {"copy": "x.duckdb"})
    progress("publish", {"copy": "x.duckdb", FINAL: True})
    progress.close()
    # What remains on screen: the text after the last carriage return of each line.
    screen = [line.rsplit("\r\033[K", 1)[-1] for line in stream.getvalue().split("\n") if line]
    assert [line.split("  (")[0] for line in screen] == ["users: users 2", "publish: copy x.duckdb"]
    assert all(line.endswith(" s)") for line in screen)


def test_a_log_prints_a_long_step_once_per_interval(clock: FakeClock) -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, interval=2.0)
    for fetched, later in ((100, 1.0), (200, 1.5), (300, 0.0)):
        progress("users", {"users": fetched})
        clock.now += later
    progress.close()
    # Nothing before the step has lasted the interval, whatever the machine's uptime; then its final line.
    assert stream.getvalue().splitlines() == ["users: users 300", "users: users 300  (2.5 s)"]


def test_disabled_progress_prints_nothing() -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, enabled=False)
    progress("users", {"users": 1})
    progress.close()
    assert stream.getvalue() == ""
