"""`seatwatch simulator` stops on SIGTERM and SIGINT with 143 / 130 and one line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_the_simulator_stops_on_a_signal(signum: int, code: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "simulator", "--users", "3", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    while not process.stdout.readline().startswith("ATLASSIAN_API_KEY="):
        assert process.poll() is None
    time.sleep(0.5)
    process.send_signal(signum)
    _, err = process.communicate(timeout=10)
    assert process.returncode == code
    assert (
        err.strip().splitlines()[-1]
        == f"Simulator stopped ({'SIGTERM' if code == 143 else 'Ctrl-C (SIGINT)'})."
    )
