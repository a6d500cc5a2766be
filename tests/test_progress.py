import io
from types import SimpleNamespace

import pytest

from pipeline.commands import progress as progress_module
from pipeline.commands.progress import StderrProgress


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


def test_throttled_steps_still_end_with_their_final_count(clock: FakeClock) -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, interval=3600)
    for fetched in (100, 200, 300):
        progress("users", {"org_id": "o1", "users": fetched})
        clock.now += 1
    for done in (1, 2, 3):
        progress("last_active", {"org_id": "o1", "done": done, "total": 3})
        clock.now += 1
    progress.close()
    assert stream.getvalue().splitlines() == [
        "users [o1]: users 100",  # a step's first line prints at once, however long the machine has been up
        "last_active [o1]: 1/3 (0.0/s)",
        "last_active [o1]: 3/3 (1.5/s)",  # the final count is never held back
        "users [o1]: users 300",  # close() prints where the throttled step ended
    ]


def test_a_step_prints_again_once_its_interval_has_passed(clock: FakeClock) -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, interval=2.0)
    for fetched, later in ((100, 1.0), (200, 1.5), (300, 0.0)):
        progress("users", {"users": fetched})
        clock.now += later
    progress.close()
    assert stream.getvalue().splitlines() == ["users: users 100", "users: users 300"]


def test_disabled_progress_prints_nothing() -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, enabled=False)
    progress("users", {"users": 1})
    progress.close()
    assert stream.getvalue() == ""
