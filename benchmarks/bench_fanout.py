"""Fan-out benchmark: the users and their last-active dates into DuckDB, four ways, against one simulator.

The simulator runs in its own process (``seatwatch simulator``, ``--latency-ms`` per request, rate limits out
of the way), and each variant loads a fresh DuckDB file with dlt, one after the other in the same run:

* ``bulk``: Seatwatch's extract (``run_extract``), last-active dates from the users search's productAccess;
* ``per_user``: Seatwatch's extract with one ``last-active-dates`` call per user (the client's fan-out);
* ``rest_api``: dlt's own ``rest_api`` source, the v1 users listing and a dependent ``last-active-dates``
  resource with ``parallelized: True`` (dlt's extract workers, 5 by default);
* ``sequential``: a plain loop, one request at a time, rows handed to dlt.

Seatwatch's variants load every raw table of the two resources (users, snapshots, last-active rows); the
others only users and last-active rows, so the comparison is in their favour.

    uv run python -m benchmarks.bench_fanout                      # 2,000 users, 50 ms latency
    uv run python -m benchmarks.bench_fanout --users 500 --skip sequential
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dlt
import httpx

from benchmarks.bench_scale import start_simulator
from pipeline.config.offline import apply_offline_defaults
from pipeline.config.settings import load_settings
from pipeline.extract.run import run_extract

VARIANTS = ("bulk", "per_user", "rest_api", "sequential")


def _seatwatch(strategy: str) -> Callable[[dict[str, str], Path], int]:
    def run(variables: dict[str, str], folder: Path) -> int:
        env = {**variables, "SEATWATCH_DATA_DIR": str(folder), "SEATWATCH_LAST_ACTIVE_STRATEGY": strategy}
        result = run_extract(load_settings(env), resources=["users", "user_product_last_active"])
        return result.api_stats[variables["ATLASSIAN_ORG_ID"]].calls

    return run


def _pipeline(folder: Path, name: str) -> dlt.Pipeline:
    apply_offline_defaults()
    return dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(str(folder / "bench.duckdb")),
        dataset_name="raw",
        pipelines_dir=str(folder / ".dlt"),
    )


def _rest_api(variables: dict[str, str], folder: Path) -> int:
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {
                "base_url": f"{variables['ATLASSIAN_API_BASE_URL']}/v1/orgs/{variables['ATLASSIAN_ORG_ID']}/",
                "auth": {"type": "bearer", "token": variables["ATLASSIAN_API_KEY"]},
                "paginator": {"type": "json_link", "next_url_path": "links.next"},
            },
            "resources": [
                {"name": "users", "endpoint": {"path": "users", "data_selector": "data"}},
                {
                    "name": "last_active",
                    "parallelized": True,
                    "endpoint": {
                        "path": "directory/users/{resources.users.account_id}/last-active-dates",
                        "data_selector": "data.product_access",
                        "paginator": "single_page",
                    },
                    "include_from_parent": ["account_id"],
                },
            ],
        }
    )
    info = _pipeline(folder, "rest_api").run(source, loader_file_format="jsonl")
    info.raise_on_failed_jobs()
    return -1  # dlt does not count its requests


def _sequential(variables: dict[str, str], folder: Path) -> int:
    base = f"{variables['ATLASSIAN_API_BASE_URL']}/v1/orgs/{variables['ATLASSIAN_ORG_ID']}"
    calls = 0

    def rows(client: httpx.Client) -> Iterator[dict[str, Any]]:
        nonlocal calls
        url: str | None = f"{base}/users"
        while url:
            page = client.get(url).raise_for_status().json()
            calls += 1
            for user in page["data"]:
                answer = client.get(f"{base}/directory/users/{user['account_id']}/last-active-dates")
                calls += 1
                for product in answer.raise_for_status().json()["data"].get("product_access", []):
                    yield {"account_id": user["account_id"], **product}
            url = page.get("links", {}).get("next")

    headers = {"Authorization": f"Bearer {variables['ATLASSIAN_API_KEY']}"}
    with httpx.Client(headers=headers, timeout=60) as client:
        resource = dlt.resource(rows(client), name="last_active")
        _pipeline(folder, "sequential").run(resource, loader_file_format="jsonl").raise_on_failed_jobs()
    return calls


RUNNERS: dict[str, Callable[[dict[str, str], Path], int]] = {
    "bulk": _seatwatch("bulk"),
    "per_user": _seatwatch("per_user"),
    "rest_api": _rest_api,
    "sequential": _sequential,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--skip", action="append", default=[], choices=VARIANTS)
    args = parser.parse_args()
    simulator, variables = start_simulator(args.users, 7, ["--latency-ms", str(args.latency_ms)])
    results: dict[str, Any] = {"users": args.users, "latency_ms": args.latency_ms}
    try:
        # Untimed: the first dlt run of a process imports and sets up what every later one reuses.
        RUNNERS["bulk"](variables, Path(tempfile.mkdtemp(prefix="seatwatch-fanout-warmup-")))
        for name in VARIANTS:
            if name in args.skip:
                continue
            folder = Path(tempfile.mkdtemp(prefix=f"seatwatch-fanout-{name}-"))
            started, cpu = time.monotonic(), os.times()
            calls = RUNNERS[name](variables, folder)
            after = os.times()
            results[name] = {
                "seconds": round(time.monotonic() - started, 1),
                "cpu_seconds": round(after.user + after.system - cpu.user - cpu.system, 1),
                "calls": calls,
            }
            print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    finally:
        simulator.terminate()
        simulator.wait()
    for name in ("bulk", "per_user"):
        for other in ("rest_api", "sequential"):
            if name in results and other in results:
                ratio = results[other]["seconds"] / results[name]["seconds"]
                results[f"{name}_faster_than_{other}"] = round(ratio, 2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
