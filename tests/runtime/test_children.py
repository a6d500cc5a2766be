"""Children of a run: no credentials in their environment, and they die with the run (kill -9 included)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.runtime.children import child_environment
from tests.support.processes import alive

ORG_KEY = "planted-org-key-Hw4p9"
DEFAULT_KEY = "planted-default-key-Tn6c3"
PARENT = """
import sys, time
from pipeline.runtime.children import guarded_popen
child = guarded_popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(child.pid, flush=True)
time.sleep(120)
"""


def test_children_get_no_api_key_and_only_what_they_need() -> None:
    env = {
        "ATLASSIAN_API_KEY": "k",
        "ATLASSIAN_API_KEY__org-1": "k1",
        "ATLASSIAN_ORG_ID": "org-1",
        "AWS_SECRET_ACCESS_KEY": "s",
        "PATH": "/usr/bin",
        "HOME": "/root",
        "SEATWATCH_WAREHOUSE_PATH": "/data/warehouse.duckdb",
        "DBT_PROFILES_DIR": "/p",
        "DO_NOT_TRACK": "1",
        "LC_ALL": "C.UTF-8",
    }
    assert child_environment(env) == {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "SEATWATCH_WAREHOUSE_PATH": "/data/warehouse.duckdb",
        "DBT_PROFILES_DIR": "/p",
        "DO_NOT_TRACK": "1",
        "LC_ALL": "C.UTF-8",
    }


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


# Stands in for dbt in a real run: records its arguments, the names of its environment's variables and
# whether any value holds a planted key, then becomes the real dbt (same process, same arguments).
DBT_WRAPPER = """#!{python}
import json, os, sys
seen = any(key in value for value in os.environ.values() for key in {keys!r})
with open({record!r}, "a") as out:
    out.write(json.dumps({{"argv": sys.argv[1:], "env": sorted(os.environ), "key_seen": seen}}) + "\\n")
os.execv({dbt!r}, [{dbt!r}, *sys.argv[1:]])
"""


@pytest.mark.slow
def test_the_dbt_of_a_run_sees_no_atlassian_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daily job in process, as `seatwatch run` executes it, against a simulator org whose keys are in
    this process's environment: the dbt that dagster-dbt starts has neither their names nor their values.
    Only the resource's dbt executable differs from a real run: the wrapper above."""
    import dagster as dg

    from pipeline.config.settings import load_settings
    from pipeline.definitions import defs
    from pipeline.defs import resources
    from pipeline.defs.schedules import DAILY_JOB_NAME
    from pipeline.defs.transform import dbt_project
    from pipeline.readers.step_failures import step_failures
    from pipeline.simulator.model import SimulatorConfig
    from pipeline.simulator.server import start_in_thread
    from pipeline.simulator.world import World

    world = World(SimulatorConfig(users=10, seed=5, api_key=ORG_KEY))
    [org] = world.orgs
    wrapper, record, real_dbt = tmp_path / "dbt", tmp_path / "dbt-calls.jsonl", resources.dbt_executable()
    keys = [ORG_KEY, DEFAULT_KEY]
    wrapper.write_text(DBT_WRAPPER.format(python=sys.executable, keys=keys, record=str(record), dbt=real_dbt))
    wrapper.chmod(0o755)
    dbt = resources.SeatwatchDbtCliResource(project_dir=dbt_project, dbt_executable=str(wrapper))
    with start_in_thread(world) as simulator, dg.DagsterInstance.ephemeral() as instance:
        monkeypatch.setenv("ATLASSIAN_API_BASE_URL", simulator.base_url)
        monkeypatch.setenv("ATLASSIAN_ORG_ID", org)
        monkeypatch.setenv("ATLASSIAN_API_KEY", DEFAULT_KEY)
        monkeypatch.setenv(f"ATLASSIAN_API_KEY__{org}", ORG_KEY)
        # Allowed through: shows that the record is of the environment passed on.
        monkeypatch.setenv("DBT_SEATWATCH_PROBE", "1")
        result = defs.resolve_job_def(DAILY_JOB_NAME).execute_in_process(
            instance=instance,
            resources={
                resources.SETTINGS: load_settings(),
                resources.PROGRESS: resources.no_progress,
                "dbt": dbt,
            },
            raise_on_error=False,
        )
    assert result.success, step_failures(result.all_events)
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert [call["argv"][0] for call in calls] == ["build"]
    for call in calls:
        assert "DBT_SEATWATCH_PROBE" in call["env"]
        assert [name for name in call["env"] if name.startswith("ATLASSIAN_")] == []
        assert not call["key_seen"]
