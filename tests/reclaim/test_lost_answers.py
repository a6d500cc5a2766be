"""A lost answer is no skip: a removal the API carried out, answered 504, then 404 on the retry, is journaled
applied by this run, counts against the cap and is restored by undo (the simulator's deterministic fault
"every first write to a resource is lost"). The full run → apply → run → undo loop with the fault, with
verification by the next run, is benchmarks/bench_reclaim.py."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.reclaim.calls import LOST_ANSWER
from pipeline.reclaim.journal import Journal
from pipeline.simulator.model import FaultConfig
from tests.support.demo import DemoRun
from tests.support.reclaim_org import ReclaimOrg, reclaim_org


@pytest.fixture
def org(demo_run: DemoRun, tmp_path: Path) -> Iterator[ReclaimOrg]:
    with reclaim_org(demo_run.published, tmp_path, faults=FaultConfig(lose_first_writes=True)) as made:
        yield made


def test_removals_whose_answers_are_lost_count_against_the_cap_and_are_undone(
    org: ReclaimOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = org.apply_plan(monkeypatch, max_actions=3)
    assert code == 0, err

    removed = org.changed("remove_group_member")
    assert len(removed) == 3 and all(w.answer_lost for w in removed)  # every one answered 504 first
    assert Counter(w.status for w in org.world.writes.log) == {204: 3, 404: 3}  # the retries found them gone
    with Journal.open(org.settings.warehouse_path) as journal:
        [run] = journal.all_runs()
        rows = journal.rows(run.run_id)
        applied = {(e.group_id, e.account_id) for e in journal.entries(run.run_id, ["applied"])}
    assert applied == {(w.group_id, w.account_id) for w in removed}, "the journal shows exactly those"
    assert Counter(row["state"] for row in rows) == {"applied": 3}, "nothing past the cap, nothing skipped"
    assert all(row["reason"] == LOST_ANSWER for row in rows)
    assert "3 applied" in out

    code, out, err = org.cli(monkeypatch, "reclaim", "undo", "--apply-run", run.run_id[:8])
    assert code == 0, err
    added = org.changed("add_group_member")
    assert sorted((w.group_id, w.account_id) for w in added) == sorted(
        (w.group_id, w.account_id) for w in removed
    )
    org_state = org.world.orgs[org.org_id]
    assert all(w.account_id in org_state.groups[w.group_id].members for w in removed)
    with Journal.open(org.settings.warehouse_path) as journal:
        assert Counter(row["state"] for row in journal.rows(run.run_id)) == {"undone": 3}
