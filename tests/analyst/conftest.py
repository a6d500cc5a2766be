"""One demo run for every analyst-facing test: ``seatwatch run --json`` as a new user would type it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from pipeline.cli import main


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict]]:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    with pytest.MonkeyPatch.context() as env:
        for name in ("ATLASSIAN_ORG_ID", "ATLASSIAN_API_KEY", "ATLASSIAN_API_BASE_URL"):
            env.delenv(name, raising=False)
        env.setenv("SEATWATCH_DATA_DIR", str(data_dir))
        out = StringIO()
        with redirect_stdout(out):
            code = main(["run", "--json"])
        assert code == 0
        yield data_dir, json.loads(out.getvalue())


@pytest.fixture
def published(demo_run: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir, _ = demo_run
    monkeypatch.setenv("SEATWATCH_DATA_DIR", str(data_dir))
    return data_dir / "seatwatch.duckdb"
