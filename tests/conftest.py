"""Test-wide isolation: no telemetry, no credentials leaking in from the developer's shell."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config.offline import apply_offline_defaults

apply_offline_defaults()

_CONFIG_PREFIXES = ("ATLASSIAN_", "SEATWATCH_")


@pytest.fixture(autouse=True)
def _isolated_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts as a fresh machine would: demo mode, data in its own temporary folder."""
    for name in list(os.environ):
        if name.startswith(_CONFIG_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SEATWATCH_DATA_DIR", str(tmp_path / "data"))
    yield


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (used to prove the API key leaks nowhere)."""
    encoded = needle.encode()
    return [path for path in root.rglob("*") if path.is_file() and encoded in path.read_bytes()]
