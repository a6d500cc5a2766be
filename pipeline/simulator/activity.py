"""Per-seat activity timestamps and the lag rule that decides which of them the API may show.

A seat's activity is an ascending list of epoch seconds. Only two things are ever asked of it: the newest
entry at or before a cutoff (what the API shows: cutoff = now - lag) and the newest entry of all (the
truth). Everything older than the newest entry at or before the cutoff can never be shown again because the
cutoff only moves forward, so :func:`prune` drops it and memory stays O(seats).
"""

from __future__ import annotations

from bisect import insort
from datetime import UTC, datetime

from pipeline.simulator.model import SeatKey, User


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def record(user: User, seat: SeatKey, moment: int) -> None:
    """Note activity; insort because an acceptance and a routine visit can land in one day out of order."""
    stamps = user.activity.get(seat)
    if stamps is None:
        user.activity[seat] = [moment]
    elif moment not in stamps:
        insort(stamps, moment)


def newest_at_or_before(stamps: list[int], cutoff: int) -> int | None:
    for moment in reversed(stamps):
        if moment <= cutoff:
            return moment
    return None


def prune(user: User, cutoff: int) -> None:
    """Drop the entries that can no longer be the newest at or before any future cutoff."""
    for stamps in user.activity.values():
        keep_from = 0
        for index, moment in enumerate(stamps):
            if moment <= cutoff:
                keep_from = index
            else:
                break
        if keep_from:
            del stamps[:keep_from]
