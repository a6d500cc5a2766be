"""How pytest-xdist hands the tests to its workers: pytest-xdist's own ``loadgroup`` scheduling (each
``xdist_group`` one unit of work, every other test its own), with one change: at most one test waits
behind the one a worker runs, where upstream lets two wait.

A worker runs a test only once it holds the next one (it needs to know it, for teardown), so one waiting
test is the least there can be. On two cores most of the suite's time is a
dozen end-to-end tests: two of them committed behind a third on one worker, while another worker runs out of
work, is what made a run last half a minute longer than its CPU time allowed. With the heaviest handed out
first (tests/conftest.py), the last tests handed out are short ones.

This overrides a private method of pytest-xdist: :data:`CHECKED` lists the versions it was read against; on
any other, tests/conftest.py keeps upstream's scheduling and ``tests/test_tests_layout.py`` fails, saying so.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadGroupScheduling

CHECKED = ("3.8.0",)
# A worker gets its next unit once it has at most this many tests not finished, the running one included
# (upstream: 2).
HELD = 1


class OneAheadScheduling(LoadGroupScheduling):
    def _reschedule(self, node: Any) -> None:
        if node.shutting_down:
            return
        if not self.workqueue:
            node.shutdown()
            return
        if self._pending_of(self.assigned_work[node]) > HELD:
            return
        self._assign_work_unit(node)
