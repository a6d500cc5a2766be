"""The README's troubleshooting table, case by case: one line on stderr, the documented exit code, nothing
half-written, and no class name or traceback.

Each case runs ``seatwatch`` in process (``pipeline.cli.main``) on a fresh data folder. Only the lock case
starts a Dagster run; every other case is refused before one would start.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from pipeline.warehouse import ensure_warehouse

README = Path(__file__).resolve().parents[2] / "README.md"
# What must never reach a person without --verbose: Python's own words.
PYTHON_WORDS = re.compile(r"Traceback|\b[A-Z][A-Za-z]*(Error|Exception)\b|Errno")


@dataclass(frozen=True)
class Api:
    base_url: str
    org_id: str
    key: str
    closed_port: int  # a loopback port bound by the test and not listening: connections are refused


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    world = World(SimulatorConfig(users=5, seed=3))
    with socket.socket() as closed, start_in_thread(world) as simulator:
        closed.bind(("127.0.0.1", 0))
        yield Api(simulator.base_url, next(iter(world.orgs)), world.api_key, closed.getsockname()[1])


Setup = Callable[[Path, pytest.MonkeyPatch, Api], list[str]]


def _env(**values: str) -> Setup:
    def setup(tmp: Path, env: pytest.MonkeyPatch, api: Api) -> list[str]:
        for name, value in values.items():
            env.setenv(name, value.format(base=api.base_url, org=api.org_id, key=api.key))
        return []

    return setup


def _real_org(**overrides: str) -> dict[str, str]:
    return {
        "ATLASSIAN_API_BASE_URL": "{base}",
        "ATLASSIAN_ORG_ID": "{org}",
        "ATLASSIAN_API_KEY": "{key}",
        **overrides,
    }


def _unwritable_folder(tmp: Path) -> Path:
    """A folder nobody here can write: permissions for a user, a pseudo file system for root."""
    if os.geteuid() != 0:
        folder = tmp / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    folder = Path("/sys/kernel")
    if not folder.is_dir() or (os.access("/sys", os.W_OK) and _can_create_in(folder)):
        pytest.skip("no unwritable folder available to root here")
    return folder


def _can_create_in(folder: Path) -> bool:
    try:
        (folder / ".seatwatch-probe").mkdir()
    except OSError:
        return False
    (folder / ".seatwatch-probe").rmdir()
    return True


def _data_dir_is_file(tmp: Path, env: pytest.MonkeyPatch, api: Api) -> list[str]:
    (tmp / "data-file").write_text("not a folder")
    env.setenv("SEATWATCH_DATA_DIR", str(tmp / "data-file"))
    return []


def _data_dir_unwritable(tmp: Path, env: pytest.MonkeyPatch, api: Api) -> list[str]:
    env.setenv("SEATWATCH_DATA_DIR", str(_unwritable_folder(tmp) / "seatwatch-data"))
    return []


def _unreachable(tmp: Path, env: pytest.MonkeyPatch, api: Api) -> list[str]:
    _env(**_real_org(ATLASSIAN_API_BASE_URL=f"http://127.0.0.1:{api.closed_port}/admin"))(tmp, env, api)
    return []


def _export_to(make_target: Callable[[Path], Path]) -> Setup:
    def setup(tmp: Path, env: pytest.MonkeyPatch, api: Api) -> list[str]:
        return ["export", "users", "--output", str(make_target(tmp))]

    return setup


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe.csv")
    return tmp / "pipe.csv"


def _folder(tmp: Path) -> Path:
    (tmp / "exports").mkdir()
    return tmp / "exports"


def _dangling_link(tmp: Path) -> Path:
    (tmp / "latest.csv").symlink_to(tmp / "gone" / "users.csv")
    return tmp / "latest.csv"


def _in_unwritable_folder(tmp: Path) -> Path:
    return _unwritable_folder(tmp) / "u.csv"


def _port_in_use(tmp: Path, env: pytest.MonkeyPatch, api: Api) -> list[str]:
    return ["ui", "--port", str(api.closed_port)]  # bound by the fixture: in use though not listening


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]
    setup: Setup
    exit_code: int
    says: str  # a fragment of the one line; the README's table quotes it


WRONG_KEY = _env(**_real_org(ATLASSIAN_API_KEY="not-the-key"))
CASES = [
    Case("key without org", ["run"], _env(ATLASSIAN_API_KEY="k"), 2, "ATLASSIAN_ORG_ID is not"),
    Case("empty org id", ["run"], _env(ATLASSIAN_ORG_ID="a,,b", ATLASSIAN_API_KEY="k"), 2, "empty entry"),
    Case(
        "base URL not http",
        ["run"],
        _env(ATLASSIAN_API_BASE_URL="x.org"),
        2,
        "must be an http:// or https:// URL",
    ),
    Case(
        "lag not a number", ["run"], _env(SEATWATCH_ACTIVITY_LAG_HOURS="1d"), 2, "must be a number of hours"
    ),
    Case("unknown strategy", ["run"], _env(SEATWATCH_LAST_ACTIVE_STRATEGY="x"), 2, "must be one of auto"),
    Case("data folder is a file", ["run"], _data_dir_is_file, 2, "is a file"),
    Case("data folder unwritable", ["run"], _data_dir_unwritable, 2, "Cannot write the data folder"),
    Case("wrong API key", ["run"], WRONG_KEY, 2, "refused the API key"),
    Case("unknown org", ["run"], _env(**_real_org(ATLASSIAN_ORG_ID="x")), 2, "Organization not found"),
    Case("API unreachable", ["run"], _unreachable, 1, "Cannot connect to the Atlassian API"),
    Case("extract, wrong key", ["extract"], WRONG_KEY, 2, "refused the API key"),
    Case("unknown option", ["run", "--fast"], _env(), 2, "unrecognized arguments"),
    Case("export before a run", ["export", "plan", "-o", "p.csv"], _env(), 1, "run `seatwatch run` first"),
    Case("export to a device", ["export", "plan", "-o", "/dev/full"], _env(), 2, "is a device"),
    Case("export to a folder", [], _export_to(_folder), 2, "is a folder"),
    Case("export to a FIFO", [], _export_to(_fifo), 2, "is a FIFO"),
    Case(
        "export, no such folder", [], _export_to(lambda tmp: tmp / "x" / "u.csv"), 2, "does not exist; create"
    ),
    Case("export, unwritable folder", [], _export_to(_in_unwritable_folder), 2, "cannot write in"),
    Case("export, symbolic link", [], _export_to(_dangling_link), 2, "is a symbolic link"),
    Case("ui, port in use", [], _port_in_use, 2, "is in use"),
    Case("ui, port out of range", ["ui", "--port", "70000"], _env(), 2, "--port must be between"),
]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` with its type and size: what 'left as it was' is checked against."""
    return {
        str(path.relative_to(root)): (path.lstat().st_mode, path.lstat().st_size) for path in root.rglob("*")
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_failure_is_one_line_with_its_exit_code_and_leaves_nothing_behind(
    case: Case,
    api: Api,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = case.setup(work, monkeypatch, api) or case.argv
    before = _snapshot(tmp_path)
    dev_full = os.stat("/dev/full").st_mode if Path("/dev/full").exists() else None

    assert main(argv) == case.exit_code
    out, err = capsys.readouterr()

    assert len(err.splitlines()) == 1, err
    assert err.startswith("seatwatch") and case.says in err, err
    assert not PYTHON_WORDS.search(err), err
    assert "not-the-key" not in out + err
    assert _snapshot(tmp_path) == before  # no data folder, no temp file, every target as it was
    if dev_full is not None:
        assert os.stat("/dev/full").st_mode == dev_full


def test_the_readme_table_lists_every_case() -> None:
    readme = README.read_text(encoding="utf-8")
    table = readme[readme.index("## Troubleshooting") :]
    missing = [case.id for case in CASES if case.says not in table]
    assert missing == []
    assert len(CASES) >= 15


def _hold_open(path: Path) -> subprocess.Popen[str]:
    """Another program with the warehouse open (read-only, as a curious analyst would)."""
    code = textwrap.dedent(
        f"""
        import sys, duckdb
        con = duckdb.connect({str(path)!r}, read_only=True)
        print("open", flush=True)
        sys.stdin.read()
        """
    )
    holder = subprocess.Popen(  # noqa: S603 (a fixed argv)
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    return holder


@pytest.mark.slow
def test_a_locked_warehouse_fails_the_run_in_one_line_and_status_reports_it(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(**_real_org())(tmp_path, monkeypatch, api)
    warehouse = Path(os.environ["SEATWATCH_DATA_DIR"]) / "warehouse.duckdb"
    ensure_warehouse(warehouse)
    before = warehouse.read_bytes()
    holder = _hold_open(warehouse)
    try:
        assert main(["run"]) == 1
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert f"{warehouse} is locked by process {holder.pid}" in err
    assert not PYTHON_WORDS.search(err)
    assert warehouse.read_bytes() == before
    assert not (warehouse.parent / "seatwatch.duckdb").exists()

    assert main(["status"]) == 1
    out = capsys.readouterr().out
    assert "CLI" in out and f"failed: {warehouse} is locked by process {holder.pid}" in out
    assert main(["status", "--json"]) == 1
    status = json.loads(capsys.readouterr().out)
    [run] = status["runs"]
    assert run["outcome"] == "failed" and run["trigger"] == "CLI" and "is locked" in run["reason"]
    assert run["duration_seconds"] is not None and not status["healthy"]


@pytest.mark.slow
def test_dbt_out_of_its_memory_fails_the_run_in_one_line_naming_the_setting(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB's memory limit reaches dbt (SEATWATCH_DUCKDB_MEMORY_LIMIT, through the profile's var): far too
    small a limit stops dbt, and the run says which setting to raise, not DuckDB's hints about SQL."""
    _env(**_real_org())(tmp_path, monkeypatch, api)
    monkeypatch.setenv("SEATWATCH_DUCKDB_MEMORY_LIMIT", "100KB")
    assert main(["run", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert "dbt ran out of memory (SEATWATCH_DUCKDB_MEMORY_LIMIT is 100KB): raise it" in err, err
    assert not PYTHON_WORDS.search(err)
    assert not (Path(os.environ["SEATWATCH_DATA_DIR"]) / "seatwatch.duckdb").exists()
