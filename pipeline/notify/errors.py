"""The one error of a channel: the message did not go (the caller keeps it to retry on the next run)."""

from __future__ import annotations

from pipeline.config.errors import SeatwatchError


class ChannelDown(SeatwatchError):
    """A message could not be delivered; nothing about the data run depends on it."""
