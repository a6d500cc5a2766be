"""The fresh read before each action: every change since the plan names its reason (pure, no API)."""

from __future__ import annotations

from typing import Any

from pipeline.reclaim.fresh import group_refusal, parse_fresh, parse_group, skip_reason

ALIASES = {"jira-software": "jira", "jira": "jira", "confluence": "confluence"}
SITE = "cloud-1"


def _action(kind: str = "remove_memberships", last_active: str | None = "2026-01-02") -> dict[str, Any]:
    return {
        "kind": kind,
        "account_id": "a1",
        "added_to_org_at": "2025-01-01T00:00:00Z",
        "seats": [{"product_key": "jira", "site_id": SITE, "last_active_date": last_active}],
        "writes": [{"group_id": "g1", "group_name": "jira-users"}],
    }


def _user(**changes: Any) -> dict[str, Any]:
    return {
        "accountId": "a1",
        "accountType": "atlassian",
        "accountStatus": "active",
        "membershipStatus": "active",
        "addedToOrg": "2025-01-01T00:00:00Z",
        "platformRoles": [],
        "groups": [{"id": "g1", "name": "jira-users"}],
        **changes,
    }


def _active(key: str, day: str) -> dict[str, Any]:
    return {"product_access": [{"id": f"ari:cloud:{key}::site/{SITE}", "key": key, "last_active": day}]}


def _reason(action: dict[str, Any], user: dict[str, Any] | None, last: dict[str, Any] | None = None) -> Any:
    return skip_reason(
        action, parse_fresh(user, last or {"product_access": []}, ALIASES), exempt={"a-exempt"}
    )


def test_an_unchanged_idle_member_is_acted_on() -> None:
    assert _reason(_action(), _user(), _active("jira-software", "2026-01-02")) is None
    # activity in another product does not make this seat used
    assert _reason(_action(), _user(), _active("confluence", "2026-11-27")) is None


def test_every_change_since_the_plan_is_a_reason_to_skip() -> None:
    assert _reason(_action(), None) == "the user is no longer listed in the org"
    assert "type app" in _reason(_action(), _user(accountType="app"))
    assert "type unknown" in _reason(_action(), _user(accountType=None))
    assert "now suspended" in _reason(_action(), _user(membershipStatus="suspended"))
    assert "now inactive" in _reason(_action(), _user(accountStatus="inactive"))
    assert "admin role" in _reason(_action(), _user(platformRoles=["atlassian/site-admin"]))
    assert "exempt_accounts.csv" in _reason({**_action(), "account_id": "a-exempt"}, _user())
    assert "re-invited" in _reason(_action(), _user(addedToOrg="2026-11-20T00:00:00Z"))
    assert _reason(_action(), _user(groups=[])) == "no longer a member of jira-users"
    later = _reason(_action(), _user(), _active("jira-software", "2026-11-27"))
    assert later == "active in jira on 2026-11-27, after the plan's data"
    assert "active in jira" in _reason(_action(last_active=None), _user(), _active("jira", "2026-11-27"))
    assert "unknown product key (jira-next)" in _reason(
        _action(), _user(), _active("jira-next", "2026-11-27")
    )


def test_an_invitee_who_used_anything_has_accepted() -> None:
    invite = _action(kind="suspend_user", last_active=None)
    assert _reason(invite, _user(groups=[])) is None
    assert "invite was accepted" in _reason(invite, _user(), _active("confluence", "2026-11-27"))


def _group(**changes: Any) -> dict[str, Any]:
    return {"id": "g1", "name": "jira-users", "externalSynced": False, "managedBy": "admins", **changes}


def _grant(key: str, role: str = "atlassian/user", site: str = SITE) -> dict[str, Any]:
    return {"resourceId": f"ari:cloud:{key}::site/{site}", "roleAssignments": [{"role": role}]}


def _group_reason(group: dict[str, Any] | None, grants: list[dict[str, Any]]) -> Any:
    write = {"group_id": "g1", "group_name": "jira-users"}
    seat = {"product_key": "jira", "site_id": SITE}
    fresh = parse_group(group, grants, ALIASES)
    return group_refusal(
        write, seat, fresh, admin_roles={"atlassian/admin", "atlassian/org-admin"}, admin_name_pattern="admin"
    )


def test_a_group_is_read_now_for_what_it_grants_and_how_it_is_managed() -> None:
    assert _group_reason(_group(), [_grant("jira-software")]) is None
    assert "no longer listed" in _group_reason(None, [])
    assert "identity provider" in _group_reason(_group(externalSynced=True), [_grant("jira")])
    assert "identity provider" in _group_reason(_group(managedBy="external"), [_grant("jira")])
    two = _group_reason(_group(), [_grant("jira"), _grant("confluence")])
    assert "grants 2 products or sites (confluence, jira)" in two
    assert "2 products or sites" in _group_reason(_group(), [_grant("jira"), _grant("jira", site="other")])
    assert "admin role (atlassian/admin)" in _group_reason(_group(), [_grant("jira", "atlassian/admin")])
    assert "admin group by its name" in _group_reason(_group(name="Jira-Admins"), [_grant("jira")])
    assert "no longer grants jira" in _group_reason(_group(), [_grant("confluence")])
    assert "unknown key (jira-next)" in _group_reason(_group(), [_grant("jira-next")])
