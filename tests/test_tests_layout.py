"""Tests as a package: shared helpers live in ``tests/support/``; no test module (nor a benchmark) imports
another test module or a conftest, and benchmarks run as modules (``python -m benchmarks.NAME``) without
editing ``sys.path``."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_only_tests_support_is_imported_across_test_modules() -> None:
    files = [*REPO.joinpath("tests").rglob("*.py"), *REPO.joinpath("benchmarks").rglob("*.py")]
    wrong = sorted(
        f"{path.relative_to(REPO)} imports {name}"
        for path in files
        for name in _imports(path)
        if (name.startswith("tests") and not name.startswith("tests.support")) or name.startswith(".")
    )
    assert wrong == []


def test_no_benchmark_edits_sys_path() -> None:
    assert [
        path.name for path in REPO.joinpath("benchmarks").glob("*.py") if "sys.path" in path.read_text()
    ] == []


def test_the_suite_schedules_with_a_checked_pytest_xdist() -> None:
    """tests/support/scheduling.py overrides a private method of pytest-xdist: on a version it was not read
    against, the suite falls back to upstream's scheduling (slower, still correct) and this test says so."""
    import importlib.metadata

    from xdist.scheduler import LoadGroupScheduling

    from tests.support.scheduling import CHECKED

    installed = importlib.metadata.version("pytest-xdist")
    assert installed in CHECKED, f"re-read tests/support/scheduling.py against pytest-xdist {installed}"
    overridden_or_used = ("_reschedule", "_pending_of", "_assign_work_unit")
    assert all(hasattr(LoadGroupScheduling, name) for name in overridden_or_used)
