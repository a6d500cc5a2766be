"""Direct grants: the role assignments of the users whose groups do not explain all their resources.

A product role assigned to a user directly (not through a group) shows in no group grant, and the v2
``productAccess`` expand may list only the products a user has used (README, *Direct grants*), so a direct
grant never used would be invisible. The API has the answer per user (v2 ``GET .../users/{accountId}/
role-assignments``), one call each; the users search already says how many resources each user holds a role
on (``counts.resources``), and the groups' role assignments say which resources their memberships explain.
Only a user whose count is higher than what their groups explain is read. Without that signal for a user (no
``counts`` or no ``groups`` in the search answer) the user is read too: an unread direct grant would hide a
seat, so correctness wins over calls (docs/direct-grants.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import dlt

from pipeline.sources.atlassian_admin import mappers, schema
from pipeline.sources.atlassian_admin.org import GroupGrants, OrgGroups
from pipeline.sources.atlassian_admin.run import ReadFailures
from pipeline.sources.atlassian_admin.users import UserPage

log = logging.getLogger("seatwatch.extract")

ENDPOINT = "role-assignments"  # raw.user_read_failures.endpoint of this fan-out


def unexplained_resources(item: Mapping[str, Any], org: OrgGroups) -> bool:
    """Whether the user may hold a role their groups do not give: ``counts.resources`` above the number of
    resources their groups hold roles on, or either side unknown."""
    count = (item.get("counts") or {}).get("resources")
    groups = item.get("groups")
    if not isinstance(count, int) or groups is None:
        return True
    return count > len(org.resources_of(group.get("id") for group in groups))


def user_role_assignments(group_grants: GroupGrants, failures: ReadFailures) -> Any:
    @dlt.transformer(name="user_role_assignments", **schema.hints("user_role_assignments"))
    def assignments(page: UserPage) -> Iterator[Any]:
        org = group_grants.of(page.session)
        account_ids = [item["accountId"] for item in page.items if unexplained_resources(item, org)]
        if not account_ids:
            return
        answers = page.session.api.map_user_role_assignments(page.org_id, account_ids)
        rows: list[dict[str, Any]] = []
        for account_id, answer in zip(account_ids, answers, strict=True):
            if answer and "failure" in answer:  # its direct access is unknown, not absent
                failures.add(page.context, ENDPOINT, account_id, answer["failure"])
            elif answer:
                rows += mappers.user_role_rows(account_id, answer["data"], page.context)
        log.info(
            "org %s: role assignments of %d of %d users read (resources their groups do not explain)",
            page.org_id, len(account_ids), len(page.items),
        )  # fmt: skip
        yield rows

    return assignments
