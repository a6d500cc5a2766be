"""A run refused before it started (a wrong, expired or revoked API key; an unknown org; an API that does
not answer): recorded in ``<data folder>/refused-run.json`` because no Dagster run exists to say so, so that
``seatwatch status`` exits 1 and names it until a later run succeeds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FILE_NAME = "refused-run.json"


@dataclass(frozen=True)
class RefusedRun:
    at: datetime
    reason: str


def record_refused(data_dir: Path, reason: str, at: datetime | None = None) -> RefusedRun:
    refused = RefusedRun(at or datetime.now(UTC), " ".join(reason.split())[:500])
    path = data_dir / FILE_NAME
    temporary = path.with_suffix(".tmp")
    if not data_dir.is_dir():
        return refused  # nothing to protect yet, and a refused first run leaves nothing behind
    try:
        temporary.write_text(json.dumps({"at": refused.at.isoformat(), "reason": refused.reason}) + "\n")
        temporary.replace(path)
    except OSError:
        pass  # a data folder that cannot be written is itself the refusal being reported: say it, not this
    return refused


def latest_refused(data_dir: Path) -> RefusedRun | None:
    try:
        data = json.loads((data_dir / FILE_NAME).read_text())
        return RefusedRun(datetime.fromisoformat(data["at"]), str(data["reason"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
