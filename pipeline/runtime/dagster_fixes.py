"""A fix for Dagster's in-process executor, which spins at 100% of a core while a step waits for a pool.

``InstanceConcurrencyContext.interval_to_next_pending_claim_check`` (dagster 1.13) returns
``min([0, *intervals])``, which is never positive, so ``ActiveExecution.sleep_til_ready`` never sleeps and
the executor asks the storage for a slot in a tight loop while another run holds the ``duckdb_writer`` pool
(measured: 9 min 35 s of CPU in 10 min). The intended value is the time until the soonest scheduled
re-check, never negative. Remove this module when Dagster fixes it (the test in
tests/runtime/test_dagster_fixes.py fails once the upstream method is right by itself).
"""

from __future__ import annotations

import time

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext


def _interval_to_next_pending_claim_check(self: InstanceConcurrencyContext) -> float:
    if not self._pending_claims or not self._pending_timeouts:
        return 0.0
    now = time.time()
    return max(0.0, min(ready_at - now for ready_at in self._pending_timeouts.values()))


def apply() -> None:
    InstanceConcurrencyContext.interval_to_next_pending_claim_check = _interval_to_next_pending_claim_check
