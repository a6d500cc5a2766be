"""The Dagster instance of a data folder: its own home, created once even by concurrent first runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.runtime.instance import BrokenInstanceError, dagster_home, open_instance, prepare_home

OPEN_AND_RUN = """
import sys
from pathlib import Path
import dagster as dg
from pipeline.runtime.instance import open_instance
with open_instance(Path(sys.argv[1])) as instance:
    @dg.op
    def noop():
        return 1
    @dg.job
    def probe():
        noop()
    assert probe.execute_in_process(instance=instance).success
"""


def test_each_data_folder_has_its_own_home_unless_dagster_home_is_set(tmp_path: Path) -> None:
    assert dagster_home(tmp_path / "data", env={}) == tmp_path / "data" / ".dagster"
    assert dagster_home(tmp_path / "data", env={"DAGSTER_HOME": str(tmp_path / "h")}) == tmp_path / "h"


def test_the_home_is_created_with_one_writer_and_no_telemetry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # the tests' own home would win over the data folder's
    with open_instance(tmp_path) as instance:
        assert instance.get_settings("telemetry") == {"enabled": False}
        assert instance.get_settings("nux") == {"enabled": False}
        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.default_pool_limit == 1
        assert concurrency.run_queue_config.max_concurrent_runs == 1
    home = tmp_path / ".dagster"
    (home / "dagster.yaml").write_text("telemetry: {enabled: false}\n")
    prepare_home(home)  # an existing file is the user's: left alone
    assert (home / "dagster.yaml").read_text() == "telemetry: {enabled: false}\n"


def test_concurrent_first_runs_leave_a_working_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three first runs racing at once (three pairs of contenders in one try; each process costs ~5 s of
    # Dagster imports on 2 cores, so repeated tries would be the suite's most expensive way to look for it).
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    data = tmp_path / "data"
    runs = [
        subprocess.Popen(  # noqa: S603 (a fixed argv)
            [sys.executable, "-c", OPEN_AND_RUN, str(data)], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    later = subprocess.run(  # noqa: S603 (a fixed argv)
        [sys.executable, "-c", OPEN_AND_RUN, str(data)], capture_output=True, text=True, check=False
    )
    assert later.returncode == 0, later.stderr


def test_a_broken_instance_is_reported_in_one_line_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = tmp_path / ".dagster"
    (home / "history").mkdir(parents=True)
    (home / "history" / "runs.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(BrokenInstanceError) as raised:
        open_instance(tmp_path)
    message = str(raised.value)
    assert "\n" not in message and f"mv {home} {home}.broken" in message
    assert raised.value.exit_code == 2
