"""A write left in ``intent`` by a killed apply is resolved by a read: sent again only if it did not happen.

A fake API stands in for the Admin API (the simulator scenario is in test_reclaim.py and the SIGKILL one in
benchmarks/bench_reclaim.py); the journal is the real one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.config.secret import Secret
from pipeline.config.settings import OrgCredentials, Settings
from pipeline.reclaim import apply as apply_module
from pipeline.reclaim import calls as calls_module
from pipeline.reclaim.current import CurrentData
from pipeline.reclaim.journal import INTENT, Journal
from pipeline.reclaim.plan import PLAN_FORMAT, content_hash

NOW = datetime(2026, 11, 28, 6, tzinfo=UTC)


class FakeApi:
    def __init__(self, members: dict[str, set[str]]) -> None:
        self.members = members  # group id → account ids
        self.writes: list[tuple[str, str]] = []

    def server_now(self) -> datetime:
        return NOW

    def search_users(self, org_id: str, **query: Any) -> list[Any]:
        account = query["filters"]["accountIds"][0]
        groups = [{"id": group} for group, members in self.members.items() if account in members]
        user = {
            "accountId": account,
            "accountType": "atlassian",
            "accountStatus": "active",
            "membershipStatus": "active",
            "groups": groups,
        }
        return [SimpleNamespace(items=[user])]

    def get_last_active_dates(self, org_id: str, account_id: str) -> dict[str, Any]:
        return {"product_access": []}

    def iter_groups(self, org_id: str, **query: Any) -> list[dict[str, Any]]:
        return [{"id": group, "name": "jira"} for group in query["group_ids"]]

    def get_group_role_assignments(self, org_id: str, directory_id: str, group_id: str) -> list[Any]:
        return [{"resourceId": "ari:cloud:jira::site/s1", "roleAssignments": [{"role": "atlassian/user"}]}]

    def remove_group_member(self, org_id: str, directory_id: str, group_id: str, account_id: str) -> Any:
        self.writes.append((group_id, account_id))
        self.members[group_id].discard(account_id)
        return SimpleNamespace(status=204, request_id=f"req-{len(self.writes)}", at=NOW, attempts=1)


def _plan(tmp_path: Path, accounts: list[str]) -> Path:
    actions = [
        {
            "action_key": f"seat/o1/{account}/jira/s1",
            "kind": "remove_memberships",
            "org_id": "o1",
            "account_id": account,
            "email": None,
            "added_to_org_at": None,
            "reclaim_reason": "inactive",
            "seats": [{"product_key": "jira", "site_id": "s1", "last_active_date": "2026-01-01"}],
            "writes": [
                {"write": "remove_group_member", "directory_id": "d1", "group_id": "g1", "group_name": "jira"}
            ],
            "monthly_cost": 7.53,
        }
        for account in accounts
    ]
    plan: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "as_of_date": "2026-11-27",
        "counts": {"seats_held": 1000},
        "actions": actions,
        "no_action": [],
    }
    plan["hash"] = content_hash(plan)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return path


@pytest.mark.parametrize("reached_the_api", [True, False])
def test_an_intent_is_sent_again_only_when_the_membership_is_still_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reached_the_api: bool
) -> None:
    api = FakeApi({"g1": {"a1", "a2"}})

    @contextmanager
    def apis(*args: Any) -> Iterator[dict[str, FakeApi]]:
        yield {"o1": api}

    monkeypatch.setattr(apply_module, "open_apis", apis)
    settings = Settings("https://api.invalid", (OrgCredentials("o1", Secret("k")),), 24.0, tmp_path / "data")
    plan = _plan(tmp_path, ["a1", "a2"])
    # The current data calls for the plan's actions (the published copy is not what this test is about)
    actions = {action["action_key"]: action for action in json.loads(plan.read_text())["actions"]}
    current = CurrentData(actions, {}, {"o1": 1000}, {"o1": "2026-11-27"})
    monkeypatch.setattr(CurrentData, "load", classmethod(lambda cls, published: current))

    class Killed(BaseException):
        pass

    real_call = calls_module._call

    def dies_on_the_first_write(api_: Any, entry: Any) -> Any:
        if reached_the_api:
            real_call(api_, entry)
        raise Killed

    monkeypatch.setattr(calls_module, "_call", dies_on_the_first_write)
    with pytest.raises(Killed):
        apply_module.apply_plan(settings, plan, max_actions=5, trigger="test", say=lambda line: None)
    with Journal.open(settings.warehouse_path) as journal:
        [run] = journal.unfinished_runs()
        assert [entry.state for entry in journal.entries(run.run_id)] == [INTENT]

    monkeypatch.setattr(calls_module, "_call", real_call)
    outcome = apply_module.apply_plan(settings, plan, max_actions=5, trigger="test", say=lambda line: None)
    assert outcome.resumed and outcome.run_id == run.run_id
    assert api.writes == [("g1", "a1"), ("g1", "a2")]  # each membership removed once, whichever way
    assert outcome.counts == {"applied": 2}
    assert api.members["g1"] == set()
