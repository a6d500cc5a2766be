"""``seatwatch run``, ``ui`` and ``--help``, and demo mode for runs started from the UI."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from benchmarks.browser import LOCAL_SCHEMES, LOOPBACK_PREFIXES, open_tab
from pipeline.cli import main
from pipeline.commands.ui import dagster_dev_command
from pipeline.config.paths import WORKSPACE_FILE
from pipeline.config.settings import OrgCredentials, Secret, load_settings
from pipeline.config.shared import DAILY_JOB_NAME
from pipeline.extract.demo import DEMO_SEED, DEMO_USERS
from pipeline.runtime.instance import open_instance
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from pipeline.warehouse import connect
from tests.support.demo import DemoRun
from tests.support.extract import point_cli_at

# What `seatwatch --help` has loaded once it has printed the usage: the stack's packages whose import alone
# takes seconds, and which only the commands that run something need.
_HELP_IMPORTS = """
import sys
from contextlib import redirect_stdout
from io import StringIO
from pipeline.cli import main
with redirect_stdout(StringIO()):
    try:
        main(["--help"])
    except SystemExit:
        pass
print(sorted({name.split(".")[0] for name in sys.modules} & {"dlt", "dagster", "dagster_dbt", "dbt"}))
"""


def test_help_prints_only_the_usage_and_loads_no_pipeline_stack() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert shown.returncode == 0 and shown.stderr == "" and "usage: seatwatch" in shown.stdout
    loaded = subprocess.run(  # noqa: S603 (a fixed argv)
        [sys.executable, "-c", _HELP_IMPORTS], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_run_with_bad_configuration_exits_2_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ATLASSIAN_API_KEY", "a-key-without-an-org")
    assert main(["run"]) == 2
    assert "ATLASSIAN_ORG_ID" in capsys.readouterr().err
    assert not Path(os.environ["DAGSTER_HOME"]).exists()


def test_ui_serves_dagster_dev_on_loopback_from_the_workspace_file() -> None:
    command = dagster_dev_command(3100)
    assert Path(command[0]).name == "dagster" and command[1] == "dev"
    assert command[command.index("-w") + 1] == str(WORKSPACE_FILE)
    assert command[command.index("-h") + 1] == "127.0.0.1"
    assert command[command.index("-p") + 1] == "3100"


def test_ui_refuses_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_a_wrong_key_ends_the_run_before_dagster_starts_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = World(SimulatorConfig(users=5, seed=3))
    with start_in_thread(world) as simulator:
        point_cli_at(monkeypatch, simulator.base_url, world, key="not-the-key-1234")
        assert main(["run", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("seatwatch: error: ") and "API key" in err
    assert "not-the-key-1234" not in err and "Error" not in err
    assert not Path(os.environ["DAGSTER_HOME"]).exists()  # refused before any run was recorded


@pytest.mark.slow
def test_a_wrong_key_inside_a_dagster_step_keeps_exit_code_2() -> None:
    """What the schedule or the UI meets (no preflight there): the step's error keeps its kind."""
    from pipeline.commands.runner import run_daily_job
    from pipeline.readers.step_failures import run_failed_error, step_failures

    world = World(SimulatorConfig(users=5, seed=3))
    with start_in_thread(world) as simulator, dg.DagsterInstance.ephemeral() as instance:
        settings = load_settings().with_orgs(
            simulator.base_url, tuple(OrgCredentials(org, Secret("wrong")) for org in world.orgs)
        )
        result = run_daily_job(instance, settings, log_level="CRITICAL")
    assert not result.success
    failures = step_failures(result.all_events)
    assert {failure.step for failure in failures} == {"atlassian_raw"}
    error = run_failed_error(result.run_id, failures)
    assert error.exit_code == 2 and str(error).startswith("The Atlassian API refused the API key")


@pytest.mark.slow
def test_run_in_demo_mode(demo_run: DemoRun, monkeypatch: pytest.MonkeyPatch) -> None:
    assert demo_run.exit_code == 0, demo_run.stderr
    assert "embedded demo org" in demo_run.stderr
    assert "Users by lifecycle status" in demo_run.stdout
    with connect(demo_run.published, read_only=True) as con:
        assert con.execute("select count(*) from marts.dim_users").fetchone()[0] >= 500
    monkeypatch.setenv("DAGSTER_HOME", str(demo_run.dagster_home))
    with dg.DagsterInstance.get() as instance:  # the instance `seatwatch ui` would show: it lists the run
        [run] = instance.get_runs()
        assert run.is_success


def _load_orgs_table(**resources: object) -> set[str]:
    """Materialise only `dlt_atlassian_admin_orgs`, as a click in the UI would, and read what landed."""
    from pipeline.defs.ingest import atlassian_raw
    from pipeline.defs.resources import build_resources
    from pipeline.defs.transform import dbt_project
    from pipeline.defs.translator import dlt_asset_key

    # dg.materialize, not the job: a job subset (asset_selection) binds the definitions' resources to its
    # assets, and Dagster then refuses a resource passed for the same key.
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [atlassian_raw],
            selection=[dlt_asset_key("orgs")],
            instance=instance,
            resources={**build_resources(dbt_project), **resources},
        )
    assert result.success
    warehouse = Path(os.environ["SEATWATCH_DATA_DIR"]) / "warehouse.duckdb"
    with connect(warehouse, read_only=True) as con:
        return {org for (org,) in con.execute("select org_id from raw.orgs").fetchall()}


@pytest.mark.slow
def test_runs_serve_the_demo_org_themselves_unless_given_one() -> None:
    demo = World(SimulatorConfig(users=DEMO_USERS, seed=DEMO_SEED))
    assert _load_orgs_table() == set(demo.orgs)  # no credentials: the run started the demo org itself

    other = World(SimulatorConfig(users=5, seed=3))
    with start_in_thread(other) as simulator:
        key = Secret(other.api_key)
        settings = load_settings().with_orgs(
            simulator.base_url, tuple(OrgCredentials(org, key) for org in other.orgs)
        )
        # What `seatwatch run` does with the settings it resolved (and the demo org it started).
        assert _load_orgs_table(settings=settings) == set(demo.orgs) | set(other.orgs)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LOCATIONS_QUERY = json.dumps(
    {"query": "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"}
).encode()


def _location_loaded(port: int) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=LOCATIONS_QUERY, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
            entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
    except OSError:
        return False  # not listening yet
    return [(entry["name"], entry["loadStatus"]) for entry in entries] == [("seatwatch", "LOADED")]


def _start_ui(port: int) -> subprocess.Popen:
    seatwatch = Path(sys.executable).with_name("seatwatch")
    return subprocess.Popen(  # noqa: S603 (a fixed argv)
        [str(seatwatch), "ui", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C for it alone: it stops dagster dev and its children itself
    )


def _stop(process: subprocess.Popen) -> None:
    """Ctrl-C to `seatwatch ui`, which stops dagster dev and its children itself: exit 130 within the 10 s of
    issue 15 (whatever is left of the group then is killed)."""
    if process.poll() is not None:
        return  # dagster dev exited on its own (its port was taken): the caller tries another
    try:
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=10) == 130
    except ProcessLookupError:
        return  # the whole group has already exited
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


def _recorded(instance: dg.DagsterInstance, run_id: str) -> tuple[int, int, int]:
    """What the run's record says: the assets and checks it planned (the size Dagster shows for a run), and
    the steps that succeeded. Every planned check was evaluated."""

    def count(event_type: dg.DagsterEventType) -> int:
        return len(instance.get_records_for_run(run_id, of_type=event_type).records)

    checks = count(dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)
    assert count(dg.DagsterEventType.ASSET_CHECK_EVALUATION) == checks
    return (
        count(dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED),
        checks,
        count(dg.DagsterEventType.STEP_SUCCESS),
    )


@pytest.mark.slow
def test_the_ui_loads_the_code_location_and_shows_the_demo_run_in_chromium(
    demo_run: DemoRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # The README's way in: `seatwatch run`, then `seatwatch ui` on the same data folder (its own Dagster
    # home). On a copy: the UI's daemon writes to the home it serves, and the demo run is read-only.
    assert demo_run.exit_code == 0, demo_run.stderr
    data = tmp_path / "data"
    shutil.copytree(demo_run.data_dir, data)
    monkeypatch.setenv("SEATWATCH_DATA_DIR", str(data))
    monkeypatch.delenv("DAGSTER_HOME")
    [run_id] = re.findall(r"Dagster run ([0-9a-f-]{36})", demo_run.stdout)
    with open_instance(data) as instance:
        assets, checks, steps = _recorded(instance, run_id)
    assert assets > 50 and checks > 100 and steps > 5

    # `seatwatch ui` needs a port number, so one is picked free; another process may take it before the UI
    # binds it, and then dagster dev exits: try again on another port instead of failing.
    for _attempt in range(3):
        port = _free_port()
        process = _start_ui(port)
        try:
            # Generous: on a loaded machine loading the code location has taken over two minutes.
            deadline = time.monotonic() + 300
            while process.poll() is None and not _location_loaded(port):
                assert time.monotonic() < deadline, "the UI did not load the code location in time"
                time.sleep(1)
            if process.poll() is None:
                # What a person sees on the run's page: its outcome, job, size and steps, as recorded.
                with open_tab(request.getfixturevalue("chromium"), width=1400) as tab:
                    tab.load(f"http://127.0.0.1:{port}/runs/{run_id}")
                    tab.wait_for_text(
                        "Success", "Run of", DAILY_JOB_NAME, f"{assets} assets", f"{checks} checks",
                        f"Succeeded ({steps})", "RUN_SUCCESS",
                    )  # fmt: skip
                    assert tab.console_errors() == []
                    assert tab.requests(beyond=(*LOCAL_SCHEMES, *LOOPBACK_PREFIXES)) == []
                return
        finally:
            _stop(process)
    pytest.fail("seatwatch ui exited three times before loading the code location")


@pytest.mark.parametrize("org_id", ["../../v2/x", ".."])
def test_run_refuses_a_path_as_org_id_before_any_request(
    org_id: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ATLASSIAN_ORG_ID", org_id)
    monkeypatch.setenv("ATLASSIAN_API_KEY", "k-1234")
    monkeypatch.setenv("ATLASSIAN_API_BASE_URL", "http://127.0.0.1:9/admin")  # nothing listens there
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not an org id" in err[0]


def test_ui_refuses_a_port_in_use_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["ui", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"Port {port}" in err and "in use" in err
