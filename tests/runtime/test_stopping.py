"""A run in a Dagster job stops on SIGTERM or Ctrl-C: exit 143 / 130 within 10 s, one line, the Dagster run
canceled; also when the step does not give up (the hard stop after the grace period)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from pipeline.runtime.instance import open_instance

SCRIPT = """
import sys, time
from pathlib import Path
import dagster as dg
from pipeline.runtime.instance import open_instance
from pipeline.runtime.recovery import launch_tags
from pipeline.runtime.signals import stoppable
from pipeline.runtime.stopping import StoppedRun

STUBBORN = sys.argv[2] == "stubborn"

@dg.op
def slow():
    print("started", flush=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            time.sleep(60)
        except BaseException:
            if not STUBBORN:
                raise

@dg.job
def job():
    slow()

data = Path(sys.argv[1])
stopped = StoppedRun(data)
with stoppable(stopped_line=stopped.line, on_hard_stop=stopped.cancel) as stop:
    with open_instance(data) as instance, stopped.watching(instance):
        try:
            job.execute_in_process(instance=instance, tags=launch_tags(data), raise_on_error=False)
        except KeyboardInterrupt:
            pass
        if stop.requested:
            stopped.settle(instance)
print(stopped.line(stop), file=sys.stderr)
sys.exit(stop.exit_code if stop.requested else 0)
"""


@pytest.mark.parametrize(
    ("signum", "mode", "code"),
    [(signal.SIGTERM, "normal", 143), (signal.SIGINT, "normal", 130), (signal.SIGTERM, "stubborn", 143)],
)
def test_a_signal_stops_the_run_and_cancels_it(tmp_path: Path, signum: int, mode: str, code: int) -> None:
    process = subprocess.Popen(  # noqa: S603 (a fixed argv)
        [sys.executable, "-c", SCRIPT, str(tmp_path), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    while "started" not in process.stdout.readline():
        assert process.poll() is None, process.communicate()[1]
    sent = time.monotonic()
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert time.monotonic() - sent < 10
    [line] = [line for line in err.splitlines() if "stopped by" in line]
    assert ("SIGTERM" if code == 143 else "SIGINT") in line
    with open_instance(tmp_path) as instance:
        [run] = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.CANCELED
        assert instance.event_log_storage.get_concurrency_keys() == set() or all(
            not instance.event_log_storage.get_concurrency_info(key).claimed_slots
            for key in instance.event_log_storage.get_concurrency_keys()
        )
