"""When to retry and how long to wait.

Retryable: 429, 500/502/503/504, timeouts, dropped or refused connections, and a 200 whose body is not JSON
(a proxy cutting a response short). Never 400/401/403/404: the same request would fail the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from pipeline.atlassian.pacing import RateLimitHeaders, server_date

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # in total, the first included
    backoff_base: float = 0.5  # seconds; the cap on the n-th wait is base × 2^(n-1)
    max_wait: float = 120.0  # no single wait is longer, whatever the server asks
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so that parallel callers do not retry in lockstep."""
        return self.rng.uniform(0.0, min(self.max_wait, self.backoff_base * 2 ** (attempt - 1)))

    def rate_limited_wait(self, headers: httpx.Headers, attempt: int) -> float:
        """After a 429: Retry-After if given, else until the window resets, else backoff."""
        retry_after = _retry_after_seconds(headers)
        if retry_after is not None:
            return min(self.max_wait, retry_after)
        info = RateLimitHeaders.parse(headers)
        if info is not None:
            return min(self.max_wait, info.seconds_left + info.margin)
        return self.backoff(attempt)

    @staticmethod
    def names_window(headers: httpx.Headers) -> bool:
        """Whether a 429 says when to come back (Retry-After, or the window's Reset)."""
        return _retry_after_seconds(headers) is not None or RateLimitHeaders.parse(headers) is not None


def _retry_after_seconds(headers: httpx.Headers) -> float | None:
    raw = headers.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # An HTTP-date is on the server's clock: measure it against the same response's Date.
    now = server_date(headers) or datetime.now(UTC)
    return max(0.0, (moment - now).total_seconds())
