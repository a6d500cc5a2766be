"""Children of a run: no credentials in their environment, and they die with the run (kill -9 included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from pipeline.runtime.children import child_environment
from tests.support.processes import alive

PARENT = """
import sys, time
from pipeline.runtime.children import guarded_popen
child = guarded_popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(child.pid, flush=True)
time.sleep(120)
"""


def test_children_get_no_api_key_and_only_what_they_need() -> None:
    needed = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "SEATWATCH_WAREHOUSE_PATH": "/data/warehouse.duckdb",
        "DBT_PROFILES_DIR": "/p",
        "DO_NOT_TRACK": "1",
        "LC_ALL": "C.UTF-8",
    }
    secrets = {
        "ATLASSIAN_API_KEY": "k",
        "ATLASSIAN_API_KEY__org-1": "k1",
        "ATLASSIAN_ORG_ID": "org-1",
        "AWS_SECRET_ACCESS_KEY": "s",
    }
    assert child_environment({**secrets, **needed}) == needed


def test_a_child_dies_when_its_parent_is_killed_with_sigkill() -> None:
    parent = subprocess.Popen(  # noqa: S603 (a fixed argv)
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


# A real run's dbt and its environment, end to end: tests/runtime/test_crash_e2e.py.
