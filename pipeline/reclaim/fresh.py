"""The fresh read before each action: is the user still the idle, unprotected member the data saw?

Two calls per action, through the same paced client as every other call: the v2 users search for this one
account (type, status, platform roles, groups) and its v1 last-active dates; and, once per run, each group
to remove the user from (the groups search and the group's role assignments: what it grants now).
:func:`skip_reason` and :func:`group_refusal` compare them with the action the current data calls for
(:mod:`pipeline.reclaim.current`, never the plan file's facts) and name the first difference, or return
None when acting is still safe.

Product keys of last-active dates are normalised with the dbt seed ``product_aliases.csv`` by the rule the
models use (``pipeline/config/seeds.py``), and ``exempt_accounts.csv`` is read at apply time, so an account
exempted after the plan was made is never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.config.seeds import product_key


@dataclass(frozen=True)
class FreshUser:
    listed: bool
    account_type: str | None = None
    account_status: str | None = None
    membership_status: str | None = None
    added_to_org: str | None = None  # ISO date-time as the API sent it
    platform_roles: tuple[str, ...] = ()
    group_ids: frozenset[str] = frozenset()
    # (normalised product, site id) → latest last-active date (ISO) now visible
    last_active: dict[tuple[str, str], str] = field(default_factory=dict)
    unknown_keys: frozenset[str] = frozenset()


def _site_of(ari: str | None) -> str | None:
    return ari.rsplit("site/", 1)[-1] if ari and "site/" in ari else None


def parse_fresh(
    user: dict[str, Any] | None, last_active: dict[str, Any] | None, aliases: dict[str, str]
) -> FreshUser:
    """A :class:`FreshUser` from a v2 users-search item and a last-active-dates ``data`` object."""
    if user is None:
        return FreshUser(listed=False)
    seen: dict[tuple[str, str], str] = {}
    unknown = set()
    for entry in (last_active or {}).get("product_access") or []:
        key, site, day = entry.get("key"), _site_of(entry.get("id")), entry.get("last_active")
        if not key or not site or not day:
            continue
        product = product_key(key, aliases)
        if product is None:
            unknown.add(key)
            continue
        seen[(product, site)] = max(day, seen.get((product, site), day))
    return FreshUser(
        listed=True,
        account_type=user.get("accountType"),
        account_status=user.get("accountStatus"),
        membership_status=user.get("membershipStatus"),
        added_to_org=user.get("addedToOrg"),
        platform_roles=tuple(user.get("platformRoles") or ()),
        group_ids=frozenset(group["id"] for group in user.get("groups") or () if "id" in group),
        last_active=seen,
        unknown_keys=frozenset(unknown),
    )


def _later(fresh: str | None, planned: str | None) -> bool:
    """Whether the API's addedToOrg moved past the plan's (both ISO; compared as instants)."""
    if not fresh or not planned:
        return False
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return parse(fresh) > parse(planned)


def skip_reason(
    action: dict[str, Any],
    fresh: FreshUser,
    exempt: set[str],
    writes: list[dict[str, Any]] | None = None,
) -> str | None:
    """Why ``action`` must not run now, or None. The first reason found is given. ``writes``: the ones still
    to make (an action resumed after some of its writes), by default all of them."""
    if not fresh.listed:
        return "the user is no longer listed in the org"
    if fresh.account_type != "atlassian":
        return f"the account is of type {fresh.account_type or 'unknown'} (apps and bots are never touched)"
    if fresh.account_status != "active":
        return f"the account is now {fresh.account_status}"
    if fresh.membership_status != "active":
        return f"the user's org access is now {fresh.membership_status}"
    admin = [role for role in fresh.platform_roles if "admin" in role]
    if admin:
        return f"the user now holds an admin role ({admin[0]})"
    if action["account_id"] in exempt:
        return "the account is now listed in exempt_accounts.csv"
    if _later(fresh.added_to_org, action.get("added_to_org_at")):
        return f"the user was re-invited or re-added since the plan (added to the org {fresh.added_to_org})"
    if fresh.unknown_keys:
        return f"the API reports activity under an unknown product key ({sorted(fresh.unknown_keys)[0]})"
    if action["kind"] == "suspend_user":
        if fresh.last_active:
            (product, _), day = max(fresh.last_active.items(), key=lambda item: item[1])
            return f"active since the plan ({product} on {day}): the invite was accepted"
        return None
    for write in writes if writes is not None else action["writes"]:
        if write["group_id"] not in fresh.group_ids:
            return f"no longer a member of {write['group_name'] or write['group_id']}"
    for seat in action["seats"]:
        now = fresh.last_active.get((seat["product_key"], seat["site_id"]))
        if now is not None and (seat["last_active_date"] is None or now > seat["last_active_date"]):
            return f"active in {seat['product_key']} on {now}, after the plan's data"
    return None


@dataclass(frozen=True)
class FreshGroup:
    """A group as the API shows it now: how it is managed and what it grants."""

    listed: bool
    name: str | None = None
    managed_elsewhere: bool = False  # synced from an identity provider, or not modifiable here
    resources: frozenset[tuple[str, str]] = frozenset()  # (normalised product, site) it grants any role on
    roles: frozenset[str] = frozenset()
    unknown_keys: frozenset[str] = frozenset()


def parse_group(
    group: dict[str, Any] | None, assignments: list[dict[str, Any]], aliases: dict[str, str]
) -> FreshGroup:
    """A :class:`FreshGroup` from a groups-search item and the group's role-assignment items."""
    if group is None:
        return FreshGroup(listed=False)
    resources, roles, unknown = set(), set(), set()
    for item in assignments:
        resource = item.get("resourceId") or ""
        key = (
            resource.removeprefix("ari:cloud:").split(":", 1)[0] if resource.startswith("ari:cloud:") else ""
        )
        key = key or item.get("resourceOwner") or ""
        product = product_key(key, aliases) if key else None
        if product is None:
            unknown.add(key or resource or "?")
        else:
            resources.add((product, resource.rsplit("/", 1)[-1]))
        roles |= {entry.get("role") for entry in item.get("roleAssignments") or [] if entry.get("role")}
        roles |= {role for role in item.get("roles") or [] if isinstance(role, str)}
    access = group.get("managementAccess") or {}
    return FreshGroup(
        listed=True,
        name=group.get("name"),
        managed_elsewhere=bool(group.get("externalSynced"))
        or group.get("managedBy") == "external"
        or access.get("modifiable") is False,
        resources=frozenset(resources),
        roles=frozenset(roles),
        unknown_keys=frozenset(unknown),
    )


def group_refusal(
    write: dict[str, Any],
    seat: dict[str, Any],
    group: FreshGroup,
    *,
    admin_roles: set[str],
    admin_name_pattern: str,
) -> str | None:
    """Why the user must not be removed from ``write``'s group to free ``seat``, by what the group is now."""
    name = group.name or write.get("group_name") or write["group_id"]
    if not group.listed:
        return f"group {name} is no longer listed"
    if group.managed_elsewhere:
        return f"group {name} is synced from an identity provider: change the membership there"
    granted_admin = sorted(group.roles & admin_roles)
    if granted_admin:
        return f"group {name} grants an admin role ({granted_admin[0]}): never removed from"
    if re.search(admin_name_pattern, name.lower()):
        return f"group {name} is an admin group by its name: never removed from"
    if group.unknown_keys:
        return f"group {name} grants a product under an unknown key ({sorted(group.unknown_keys)[0]})"
    if len(group.resources) > 1:
        products = ", ".join(sorted({product for product, _ in group.resources}))
        return (
            f"group {name} grants {len(group.resources)} products or sites ({products}): removing the "
            "membership would take more than this seat"
        )
    if group.resources != {(seat["product_key"], seat["site_id"])}:
        return f"group {name} no longer grants {seat['product_key']} on this site"
    return None
