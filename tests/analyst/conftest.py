"""Analyst-facing tests read the session's demo run (tests/conftest.py), as a new user's first run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.demo import DemoRun, reading


@pytest.fixture
def published(demo_run: DemoRun) -> Iterator[Path]:
    with reading(demo_run) as copy:
        yield copy
