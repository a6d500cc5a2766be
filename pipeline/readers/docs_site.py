"""Build dbt's static docs site (one ``index.html`` with the manifest and catalog inside) offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pipeline.config.errors import ConfigurationError, SeatwatchError
from pipeline.config.offline import OFFLINE_ENV
from pipeline.config.paths import DBT_PROJECT_DIR as PROJECT_DIR
from pipeline.runtime.children import dbt_executable

# The catalog covers the published tables only; the other models stay in the lineage graph.
PUBLISHED_SELECTOR = "marts"
# dbt's docs page loads a tracking script from a CDN when the manifest says usage stats are on, whatever
# the user's shell says: the site must open without a network.
_NO_TRACKING = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


class DocsError(SeatwatchError):
    pass


def build_docs_site(published: Path, output: Path) -> Path:
    """Write ``output/index.html``: dbt docs for the marts of ``published``, readable offline."""
    if not published.exists():
        raise DocsError(f"{published} does not exist yet: run `seatwatch run` first.")
    if output.exists() and not output.is_dir():
        raise ConfigurationError(f"--output {output} is a file: give a folder for the docs site.")
    with tempfile.TemporaryDirectory(prefix="seatwatch-docs-") as work:
        scratch = Path(work)
        # dbt-duckdb opens its database for writing; a private copy keeps readers of the real file unblocked.
        database = scratch / "published.duckdb"
        shutil.copyfile(published, database)
        env = {**OFFLINE_ENV, **os.environ, **_NO_TRACKING, "SEATWATCH_WAREHOUSE_PATH": str(database)}
        result = subprocess.run(  # noqa: S603 (a fixed argv, no shell)
            [
                dbt_executable(), "docs", "generate", "--static", "--select", PUBLISHED_SELECTOR, "--quiet",
                "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
                "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs"),
            ],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        static = scratch / "target" / "static_index.html"
        if result.returncode != 0 or not static.exists():
            last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
            raise DocsError(f"dbt docs generate failed: {last[0]} (run with dbt directly to see more).")
        output.mkdir(parents=True, exist_ok=True)
        target = output / "index.html"
        tmp = output / ".index.html.tmp"
        shutil.copyfile(static, tmp)
        tmp.replace(target)
    return target
