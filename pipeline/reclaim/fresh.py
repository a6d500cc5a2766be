"""The fresh read before each action: is the user still the idle, unprotected member the plan saw?

Two calls per action, through the same paced client as every other call: the v2 users search for this one
account (status, platform roles, groups) and its v1 last-active dates. :func:`skip_reason` compares them
with the plan and names the first difference, or returns None when acting is still safe.

Product keys of last-active dates are normalised with the dbt seed ``product_aliases.csv`` by the rule the
models use (``pipeline/config/seeds.py``), and ``exempt_accounts.csv`` is read at apply time, so an account
exempted after the plan was made is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.config.seeds import product_key


@dataclass(frozen=True)
class FreshUser:
    listed: bool
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


def skip_reason(action: dict[str, Any], fresh: FreshUser, exempt: set[str]) -> str | None:
    """Why the plan's ``action`` must not run now, or None. The first reason found is given."""
    if not fresh.listed:
        return "the user is no longer listed in the org"
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
    for write in action["writes"]:
        if write["group_id"] not in fresh.group_ids:
            return f"no longer a member of {write['group_name'] or write['group_id']}"
    for seat in action["seats"]:
        now = fresh.last_active.get((seat["product_key"], seat["site_id"]))
        if now is not None and (seat["last_active_date"] is None or now > seat["last_active_date"]):
            return f"active in {seat['product_key']} on {now}, after the plan's data"
    return None
