"""The API's clock against this machine's: everything follows the API's ``Date`` header, so a gap is only
worth one line (it means one of the two clocks is wrong, and ages in ``seatwatch status`` will read oddly)."""

from __future__ import annotations

CLOCK_TOLERANCE_SECONDS = 300


def clock_gap(offset_seconds: float) -> str | None:
    """``"2.0 h ahead of"`` or ``"… behind"`` when the API's clock minus ours is beyond the tolerance."""
    if abs(offset_seconds) <= CLOCK_TOLERANCE_SECONDS:
        return None
    side = "ahead of" if offset_seconds > 0 else "behind"
    return f"{abs(offset_seconds) / 3600:.1f} h {side}"
