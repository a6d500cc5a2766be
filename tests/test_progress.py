import io

from pipeline.commands.progress import StderrProgress


def test_throttled_steps_still_end_with_their_final_count() -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, interval=3600)
    for fetched in (100, 200, 300):
        progress("users", {"org_id": "o1", "users": fetched})
    for done in (1, 2, 3):
        progress("last_active", {"org_id": "o1", "done": done, "total": 3})
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "users [o1]: users 100"
    assert any(line.startswith("last_active [o1]: 3/3") for line in lines)
    assert lines[-1] == "users [o1]: users 300"


def test_disabled_progress_prints_nothing() -> None:
    stream = io.StringIO()
    progress = StderrProgress(stream, enabled=False)
    progress("users", {"users": 1})
    progress.close()
    assert stream.getvalue() == ""
