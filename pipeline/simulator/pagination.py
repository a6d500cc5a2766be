"""Opaque, deterministic page cursors.

A cursor is the URL-safe base64 of a small canonical JSON document plus a short checksum, so that:

* it is opaque to clients, as the real API's cursors are (``MDNlZWRm...``);
* it carries the whole query of the first request, because the API says "if [cursor is] present, all other
  parameters are discarded";
* it is derived only from the query and a position, never from randomness, so the same world gives the same
  bytes;
* anything we did not issue (garbage, a cursor from another endpoint, an edited one) is detected and answered
  with 400 ``ADMIN-400-1``.

Positions are keysets (the sort key of the last item returned), not offsets, so a page walk stays correct
when the world changes between two pages (``advance``) and the events stream can resume from the last event.
Only workspaces page by offset, because their ``meta.startIndex``/``endIndex`` expose positions anyway.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Not a secret: the checksum only tells our cursors from garbage.
_CHECKSUM_KEY = b"seatwatch-simulator-cursor"
_CHECKSUM_BYTES = 6


class InvalidCursor(ValueError):
    """The cursor was not issued by this endpoint."""


def encode_cursor(kind: str, state: dict[str, Any]) -> str:
    payload = json.dumps({"k": kind, **state}, sort_keys=True, separators=(",", ":")).encode()
    digest = hmac.new(_CHECKSUM_KEY, payload, hashlib.sha256).digest()[:_CHECKSUM_BYTES]
    return base64.urlsafe_b64encode(digest + payload).decode().rstrip("=")


def decode_cursor(token: str, kind: str) -> dict[str, Any]:
    """The state stored by :func:`encode_cursor` for ``kind``; :class:`InvalidCursor` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursor(token) from None
    digest, payload = raw[:_CHECKSUM_BYTES], raw[_CHECKSUM_BYTES:]
    expected = hmac.new(_CHECKSUM_KEY, payload, hashlib.sha256).digest()[:_CHECKSUM_BYTES]
    if not payload or not hmac.compare_digest(digest, expected):
        raise InvalidCursor(token)
    state = json.loads(payload)
    if not isinstance(state, dict) or state.pop("k", None) != kind:
        raise InvalidCursor(token)
    return state


class SortedIndex(Generic[T]):
    """Items in ascending key order with their keys, built once per world state and paged many times."""

    def __init__(self, items: Iterable[T], sort_key: Callable[[T], Sequence[Any]]) -> None:
        # Keys are lists so that they compare equal to the same key after a JSON round trip through a cursor.
        self._sort_key = sort_key
        pairs = sorted(((list(sort_key(item)), item) for item in items), key=lambda pair: pair[0])
        self.keys = [key for key, _ in pairs]
        self.items = [item for _, item in pairs]

    def __len__(self) -> int:
        return len(self.items)

    def page(
        self,
        after: list[Any] | None,
        limit: int,
        *,
        descending: bool = False,
        where: Callable[[T], bool] | None = None,
    ) -> tuple[list[T], bool]:
        """Up to ``limit`` items past the key ``after`` (None: from the start) that satisfy ``where``, and
        whether more such items exist. Descending walks the same index backwards."""
        if descending:
            start = len(self.keys) - 1 if after is None else bisect.bisect_left(self.keys, after) - 1
            positions: Iterable[int] = range(start, -1, -1)
        else:
            start = 0 if after is None else bisect.bisect_right(self.keys, after)
            positions = range(start, len(self.keys))
        page: list[T] = []
        for position in positions:
            item = self.items[position]
            if where is not None and not where(item):
                continue
            if len(page) == limit:
                return page, True
            page.append(item)
        return page, False

    def key_of(self, item: T) -> list[Any]:
        """The key of an item, as a cursor stores it."""
        return list(self._sort_key(item))
