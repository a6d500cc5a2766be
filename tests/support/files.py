"""Looking into files a run wrote."""

from __future__ import annotations

from pathlib import Path


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (used to prove the API key leaks nowhere)."""
    encoded = needle.encode()
    return [path for path in root.rglob("*") if path.is_file() and encoded in path.read_bytes()]
