"""Test-wide isolation: no telemetry, no credentials leaking in from the developer's shell, no state shared
with the project folder or with other tests; and the one demo run that read-only tests share."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, date, datetime, time
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from benchmarks.browser import find_browser
from pipeline.config.offline import apply_offline_defaults
from tests.support.dbt_runner import share_parse_state
from tests.support.demo import DemoRun
from tests.support.postgres import PostgresServer, start_server

apply_offline_defaults()


def _temporary_files_in_memory() -> None:
    """Every test's data folder, Dagster home and temporary file in RAM where the machine has a tmpfs at
    /dev/shm (Linux), unless TMPDIR says where: pytest, the tests' child processes and Python's tempfile all
    follow TMPDIR. A Seatwatch run commits its Dagster records to SQLite some 1,600 times, each a disk
    flush; on a disk those flushes were a quarter of an end-to-end test's time. Nothing a test checks
    depends on the disk: a killed process leaves its writes in the page cache all the same."""
    shm = Path("/dev/shm")  # noqa: S108 (pytest keeps its folder there private to the user, as under /tmp)
    if "TMPDIR" not in os.environ and shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        os.environ["TMPDIR"] = str(shm)
        tempfile.tempdir = None  # tempfile read the environment once already


_temporary_files_in_memory()

_CONFIG_PREFIXES = ("ATLASSIAN_", "SEATWATCH_")
# `.ci/run` installs Chromium and sets this, so that there a browser check fails instead of skipping. Read
# once here, before any test clears the SEATWATCH_ variables.
_CHROMIUM_REQUIRED = os.environ.get("SEATWATCH_TESTS_NEED_CHROMIUM") == "1"


def _clear_configuration(env: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_CONFIG_PREFIXES):
            env.delenv(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--simulated-start",
        metavar="YYYY-MM-DD",
        type=date.fromisoformat,
        default=None,
        help="the day the date-sensitive tests' simulated worlds start on (default: today, as a user's does)",
    )


@pytest.fixture
def simulated_start(request: pytest.FixtureRequest) -> datetime:
    """Where a test's world starts: today at 06:00 UTC as for a user, or the day ``--simulated-start`` names,
    so that a test whose world depends on the date can be run for any date (DEVELOPERS.md, "Any date")."""
    from pipeline.simulator.model import default_start

    day = request.config.getoption("--simulated-start")
    return default_start() if day is None else datetime.combine(day, time(6), tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts as a fresh machine would: demo mode, data and Dagster state in its own folder."""
    _clear_configuration(monkeypatch)
    monkeypatch.setenv("SEATWATCH_DATA_DIR", str(tmp_path / "data"))
    # Never the project's .dagster_home/: its runs and pool slots would carry over between tests and runs.
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    yield


@pytest.fixture(scope="session", autouse=True)
def _one_dbt_parse_per_session(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> None:
    """Under pytest-xdist, the workers that run dbt in process share dbt's parse state
    (tests/support/dbt_runner.py) in the session's temporary folder, where every worker's own folder is."""
    if worker_id != "master":
        share_parse_state(tmp_path_factory.getbasetemp().parent / "dbt-parse")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One demo run for every test that only reads what it printed or published (a run costs tens of
    seconds on two cores). Tests must not write to its folders."""
    from pipeline.cli import main

    root = tmp_path_factory.mktemp("demo_run")
    out, err = StringIO(), StringIO()
    with pytest.MonkeyPatch.context() as env:
        _clear_configuration(env)
        env.setenv("SEATWATCH_DATA_DIR", str(root / "data"))
        env.delenv("DAGSTER_HOME", raising=False)
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["run"])
    return DemoRun(code, out.getvalue(), err.getvalue(), root / "data")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The headless Chromium of the checks of what a person sees (benchmarks/browser.py); those tests skip on
    a machine without one, and fail under `.ci/run`, which installs it."""
    browser = find_browser()
    if browser is None:
        if _CHROMIUM_REQUIRED:
            pytest.fail("no Chromium, which .ci/run should have installed (apt-get install chromium)")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    return browser


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL 16 per pytest-xdist worker (per session without xdist), on a Unix socket in a
    temporary folder of its own, started only when a test asks for it (tests/support/postgres.py)."""
    yield from start_server()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A database of this test's own on the worker's server."""
    import hashlib

    return postgres_server.database("t_" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16])


# The tests that read the shared demo run stay on one pytest-xdist worker: each worker has its own session,
# so split across two they would pay for the demo run twice.
DEMO_RUN_GROUP = pytest.mark.xdist_group("demo_run")
# The tests that need Postgres but not the demo run share one worker too, so that the suite starts at most two
# servers (that worker's and the demo run's worker's) rather than one per worker.
POSTGRES_GROUP = pytest.mark.xdist_group("postgres")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """pytest-xdist's loadgroup scheduling with one test waiting per worker instead of two
    (tests/support/scheduling.py), on the pytest-xdist versions it was checked on; upstream's otherwise."""
    import importlib.metadata

    from tests.support.scheduling import CHECKED, OneAheadScheduling

    if config.getoption("dist") != "loadgroup" or importlib.metadata.version("pytest-xdist") not in CHECKED:
        return None
    return OneAheadScheduling(config, log)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups; after pytest-randomly's shuffle
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "demo_run" in fixtures:
            item.add_marker(DEMO_RUN_GROUP)
        elif "postgres_server" in fixtures:
            item.add_marker(POSTGRES_GROUP)
    # The end-to-end tests (marked slow) are handed out first, those that run the whole pipeline most often
    # first of all, then the rest in their shuffled order: a heavy test drawn last would keep a worker busy
    # long after the others finished.
    items.sort(key=_hand_out_order)


def _hand_out_order(item: pytest.Item) -> tuple[bool, int]:
    slow = item.get_closest_marker("slow")
    return slow is None, -(slow.kwargs.get("runs", 0) if slow else 0)


@pytest.hookimpl(trylast=True)  # after pytest-xdist has tagged the grouped tests
def pytest_collection_finish(session: pytest.Session) -> None:
    # pytest 9.2 with pytest-xdist 3.8 silently ignores the groups (pytest-dev/pytest-xdist#1386): fail
    # instead of paying for the demo run once per worker.
    if session.config.getoption("loadgroup", default=False):
        lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group")]
        if any("@" not in nodeid for nodeid in lost):
            raise pytest.UsageError("pytest-xdist ignored the xdist_group marks: see the pytest pin")
