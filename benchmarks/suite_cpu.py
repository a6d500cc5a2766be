"""A pytest plugin that measures where the test suite's CPU goes: per test, the CPU seconds of the worker
process (its threads included) and of the children it waited for, and the wall seconds; then the totals per
worker and the heaviest tests, printed at the end by ``python -m benchmarks.suite_cpu``.

    rm -rf /tmp/suite-cpu && SUITE_CPU_DIR=/tmp/suite-cpu uv run python -m pytest -p benchmarks.suite_cpu
    SUITE_CPU_DIR=/tmp/suite-cpu uv run python -m benchmarks.suite_cpu
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    folder = Path(os.environ.get("SUITE_CPU_DIR", "suite-cpu"))
    own, children = _cpu()
    started = time.monotonic()
    yield
    own_after, children_after = _cpu()
    folder.mkdir(parents=True, exist_ok=True)
    row = {
        "test": item.nodeid,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        "own": round(own_after - own, 2),
        "children": round(children_after - children, 2),
        "wall": round(time.monotonic() - started, 2),
    }
    with (folder / f"{os.getpid()}.jsonl").open("a") as out:
        out.write(json.dumps(row) + "\n")


def main() -> None:
    folder = Path(os.environ.get("SUITE_CPU_DIR", "suite-cpu"))
    rows = [json.loads(line) for path in folder.glob("*.jsonl") for line in path.read_text().splitlines()]
    workers: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        workers[row["worker"]][0] += row["wall"]
        workers[row["worker"]][1] += row["own"] + row["children"]
    print(f"{len(rows)} tests, {sum(r['own'] + r['children'] for r in rows):.0f} s of CPU")
    for worker, (wall, cpu) in sorted(workers.items()):
        print(f"  {worker}: busy {wall:.0f} s, CPU {cpu:.0f} s")
    for row in sorted(rows, key=lambda r: -(r["own"] + r["children"]))[:15]:
        print(f"  {row['own'] + row['children']:6.1f} s CPU {row['wall']:6.1f} s wall  {row['test']}")


if __name__ == "__main__":
    main()
