"""A step waiting for a pool slot sleeps until its next check instead of spinning."""

from __future__ import annotations

import time
from types import SimpleNamespace

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

from pipeline.runtime import dagster_fixes


def _waiting(seconds: float) -> SimpleNamespace:
    return SimpleNamespace(_pending_claims={"step"}, _pending_timeouts={"step": time.time() + seconds})


def test_the_wait_until_the_next_claim_check_is_positive() -> None:
    dagster_fixes.apply()
    interval = InstanceConcurrencyContext.interval_to_next_pending_claim_check(_waiting(5.0))
    assert 4.0 < interval <= 5.0
    assert InstanceConcurrencyContext.interval_to_next_pending_claim_check(_waiting(-1.0)) == 0.0
