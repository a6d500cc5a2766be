"""``seatwatch reclaim plan``: the published marts → a plan file of actions and of seats left alone.

Every verdict on a seat (candidate, lane, price, which groups grant it) is the marts' own; this module only
turns cleanup-ready seats into Admin API writes and refuses, seat by seat, what it cannot do safely. One
action frees one seat (every group membership that grants it: leaving one of two granting groups frees
nothing), except a pending invite, whose one action suspends the invitee (every seat at once). Why suspend
for invites: docs/reclaim.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import stat
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.config.errors import ConfigurationError, SeatwatchError
from pipeline.warehouse import connect

PLAN_FORMAT = "seatwatch-reclaim-plan/1"
REMOVE = "remove_group_member"
SUSPEND = "suspend_user"
REASONS = ("inactive", "never_used", "invite_not_accepted")
# A plan is acted on at most this long after its as-of date (the day activity is complete through): the
# apply date on the API's clock may be the as-of date + 1 day, not later. Older data may call idle someone
# who has come back; the fresh read before each write is a second guard, not a reason to act on old plans.
MAX_PLAN_AGE = timedelta(days=1)
# One apply run never touches more than this share of the seats the plan's data counted, whatever --max
# says: a mistake (a wrong threshold, an API that reports nobody's activity) stays small and reversible.
MAX_SHARE_OF_SEATS = 0.10
DEFAULT_MAX_ACTIONS = 25


class PlanError(SeatwatchError):
    """The plan file cannot be used: missing, malformed, changed, or too old (configuration: exit 2)."""

    exit_code = 2


_SEATS_SQL = """
select
    s.org_id, s.account_id, s.product_key, s.site_id, s.reclaim_reason, s.reclaim_lane,
    s.is_direct_access, s.monthly_seat_price, s.last_active_date::varchar, s.days_since_last_active,
    s.as_of_date::varchar,
    u.email, u.display_name, u.lifecycle_status, u.exempt_reason, u.is_org_admin, u.is_site_admin,
    u.account_type, u.platform_roles, u.invited_at, u.added_to_org_at, u.last_active_date::varchar
from marts.fct_user_product_access as s
inner join marts.dim_users as u on s.org_id = u.org_id and s.account_id = u.account_id
where s.has_access
order by s.org_id, s.account_id, s.product_key, s.site_id
"""
_GROUPS_SQL = """
select org_id, account_id, product_key, site_id, group_id, group_name, directory_id, is_external_synced,
       grants_only_this_seat, is_admin_group
from marts.fct_seat_granting_groups
order by org_id, account_id, product_key, site_id, group_id
"""
_RUNS_SQL = """
select org_id, run_id, extracted_at, as_of_date::varchar
from marts.pipeline_runs
where status = 'success'
qualify row_number() over (partition by org_id order by extracted_at desc) = 1
order by org_id
"""


@dataclass(frozen=True)
class Filters:
    org_id: str | None = None
    product: str | None = None
    reason: str | None = None
    max_actions: int | None = None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _price(value: Any) -> float:
    return 0.0 if value is None else float(value)


class NoDataError(SeatwatchError):
    """No published copy (or no successful run) to plan from: run the pipeline first (exit 1, as exports)."""


def _read(published: Path) -> tuple[list[tuple], dict[tuple, list[dict[str, Any]]], list[tuple]]:
    if not published.exists():
        raise NoDataError(f"{published} does not exist yet: run `seatwatch run` first.")
    with connect(published, read_only=True) as con:
        seats = con.execute(_SEATS_SQL).fetchall()
        groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
        for org, account, product, site, *group in con.execute(_GROUPS_SQL).fetchall():
            names = ("group_id", "group_name", "directory_id", "external", "only_this_seat", "admin")
            groups[(org, account, product, site)].append(dict(zip(names, group, strict=True)))
        runs = con.execute(_RUNS_SQL).fetchall()
    return seats, groups, runs


def _admin_like(user: dict[str, Any]) -> str | None:
    """Anything admin-like about the user, beyond the marts' protected lane (which covers org/site admins)."""
    if user["is_org_admin"]:
        return "org admin"
    if user["is_site_admin"]:
        return "site admin"
    roles = [role for role in (user["platform_roles"] or "").split(", ") if "admin" in role]
    return f"admin role {roles[0]}" if roles else None


def _membership_refusal(groups: list[dict[str, Any]]) -> str | None:
    """Why the seat's group memberships cannot all be removed safely; None when they can."""
    if not groups:
        return "no granting group known (direct access: revoke the product role on the user by hand)"
    for group in groups:
        name = group["group_name"] or group["group_id"]
        if group["admin"]:
            return f"granted through admin group {name}: never removed from"
        if group["external"]:
            return f"group {name} is synced from an identity provider: change the membership there"
        if not group["only_this_seat"]:
            return f"group {name} grants other products or sites too"
        if not group["directory_id"]:
            return f"group {name} is not in the groups listing (no directory id)"
    return None


def _no_action_reason(seat: dict[str, Any], groups: list[dict[str, Any]]) -> str | None:
    if seat["lane"] == "protected":
        return f"protected: {seat['exempt_reason'] or 'admin of this product instance'}"
    if seat["lane"] == "needs_review":
        if seat["is_direct_access"]:
            return "needs review: direct access (no group to remove the user from)"
        if any(not group["only_this_seat"] for group in groups):
            return "needs review: a granting group grants other products or sites too (multi-product group)"
        return "needs review: the product's activity is not trusted (unknown product key or mismatched data)"
    if seat["lane"] != "cleanup_ready":
        return f"lane {seat['lane']}: not cleanup-ready"
    admin = _admin_like(seat)
    if admin:
        return f"protected: {admin}"
    if seat["account_type"] != "atlassian":
        kind = seat["account_type"] or "unknown"
        return f"protected: account type {kind} (apps and bots are never touched)"
    return _membership_refusal(groups)


def _seat_dict(row: tuple) -> dict[str, Any]:
    names = (
        "org_id", "account_id", "product_key", "site_id", "reclaim_reason", "lane", "is_direct_access",
        "monthly_seat_price", "last_active_date", "days_since_last_active", "as_of_date", "email",
        "display_name", "lifecycle_status", "exempt_reason", "is_org_admin", "is_site_admin",
        "account_type", "platform_roles", "invited_at", "added_to_org_at", "user_last_active_date",
    )  # fmt: skip
    return dict(zip(names, row, strict=True))


def _user_fields(seat: dict[str, Any]) -> dict[str, Any]:
    return {
        "org_id": seat["org_id"],
        "account_id": seat["account_id"],
        "email": seat["email"],
        "display_name": seat["display_name"],
        "lifecycle_status": seat["lifecycle_status"],
        "added_to_org_at": _iso(seat["added_to_org_at"]),
        "invited_at": _iso(seat["invited_at"]),
        "user_last_active_date": seat["user_last_active_date"],
    }


def _seat_fields(seat: dict[str, Any]) -> dict[str, Any]:
    return {
        "product_key": seat["product_key"],
        "site_id": seat["site_id"],
        "reclaim_reason": seat["reclaim_reason"],
        "last_active_date": seat["last_active_date"],
        "days_since_last_active": seat["days_since_last_active"],
        "monthly_seat_price": _price(seat["monthly_seat_price"]),
    }


def _removal(seat: dict[str, Any], groups: list[dict[str, Any]]) -> dict[str, Any]:
    writes = [_write(REMOVE, g["directory_id"], g["group_id"], g["group_name"]) for g in groups]
    key = f"seat/{seat['org_id']}/{seat['account_id']}/{seat['product_key']}/{seat['site_id']}"
    return {
        "action_key": key,
        "kind": "remove_memberships",
        **_user_fields(seat),
        "reclaim_reason": seat["reclaim_reason"],
        "seats": [_seat_fields(seat)],
        "writes": writes,
        "monthly_cost": _price(seat["monthly_seat_price"]),
    }


def _write(write: str, directory_id: str, group_id: str | None, group_name: str | None) -> dict[str, Any]:
    return {"write": write, "directory_id": directory_id, "group_id": group_id, "group_name": group_name}


def _suspension(
    user_seats: list[dict[str, Any]], groups: dict[tuple, list[dict[str, Any]]]
) -> dict[str, Any] | str:
    """One suspension for an invitee whose every seat is cleanup-ready; else why not."""
    directories = set()
    for seat in user_seats:
        if seat["reclaim_reason"] != "invite_not_accepted":
            return "invitee holds a seat that is not an unanswered invite"
        seat_groups = groups.get(_key(seat), [])
        refusal = _no_action_reason(seat, seat_groups)
        if refusal:
            return refusal
        directories |= {group["directory_id"] for group in seat_groups}
    if len(directories) != 1:
        return "invitee's groups are in several directories: suspend by hand in each"
    first = user_seats[0]
    return {
        "action_key": f"user/{first['org_id']}/{first['account_id']}",
        "kind": "suspend_user",
        **_user_fields(first),
        "reclaim_reason": "invite_not_accepted",
        "seats": [_seat_fields(seat) for seat in user_seats],
        "writes": [_write(SUSPEND, directories.pop(), None, None)],
        "monthly_cost": round(sum(_price(seat["monthly_seat_price"]) for seat in user_seats), 2),
    }


def _key(seat: dict[str, Any]) -> tuple:
    return (seat["org_id"], seat["account_id"], seat["product_key"], seat["site_id"])


def _no_action(seat: dict[str, Any], reason: str) -> dict[str, Any]:
    return {
        "org_id": seat["org_id"],
        "account_id": seat["account_id"],
        "email": seat["email"],
        "product_key": seat["product_key"],
        "site_id": seat["site_id"],
        "reclaim_reason": seat["reclaim_reason"],
        "reclaim_lane": seat["lane"],
        "monthly_seat_price": _price(seat["monthly_seat_price"]),
        "reason": reason,
    }


def _order(action: dict[str, Any]) -> tuple:
    # Removals first (inactive, then never used; the longest idle first), suspensions of invitees after.
    seat = action["seats"][0]
    return (
        REASONS.index(action["reclaim_reason"]),
        -(seat["days_since_last_active"] or 0),
        action["org_id"],
        action["account_id"],
        seat["product_key"],
        seat["site_id"],
    )


def _matches(action_or_seat: dict[str, Any], filters: Filters) -> bool:
    seats = action_or_seat.get("seats", [action_or_seat])
    return (
        (filters.org_id is None or action_or_seat["org_id"] == filters.org_id)
        and (filters.product is None or any(s["product_key"] == filters.product for s in seats))
        and (filters.reason is None or action_or_seat["reclaim_reason"] == filters.reason)
    )


def content_hash(plan: dict[str, Any]) -> str:
    body = {key: value for key, value in plan.items() if key != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Derived:
    """What the current rules make of a published copy: every action they call for and every candidate seat
    they leave alone (with the reason), unfiltered; the plan is a filtered view of it, and apply derives it
    again just before acting (:mod:`pipeline.reclaim.current`)."""

    actions: list[dict[str, Any]]  # in plan order
    no_action: list[dict[str, Any]]
    seats: list[dict[str, Any]]  # every seat held
    candidates: list[dict[str, Any]]
    runs: list[tuple]  # (org id, run id, extracted at, as-of date) of each org's latest successful run


def derive(published: Path) -> Derived:
    """The current rules applied to the published copy ``published`` (see the module docstring)."""
    seats_rows, groups, runs = _read(published)
    seats = [_seat_dict(row) for row in seats_rows]
    candidates = [seat for seat in seats if seat["reclaim_reason"] is not None]
    actions: list[dict[str, Any]] = []
    no_action: list[dict[str, Any]] = []
    invitees: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for seat in candidates:
        if seat["reclaim_reason"] == "invite_not_accepted":
            invitees[(seat["org_id"], seat["account_id"])].append(seat)
            continue
        seat_groups = groups.get(_key(seat), [])
        reason = _no_action_reason(seat, seat_groups)
        if reason:
            no_action.append(_no_action(seat, reason))
        else:
            actions.append(_removal(seat, seat_groups))
    held = defaultdict(list)
    for seat in seats:
        held[(seat["org_id"], seat["account_id"])].append(seat)
    for user, user_seats in invitees.items():
        # every seat the invitee holds must be an unanswered-invite candidate, or suspending takes more
        suspension = _suspension(held[user], groups)
        if isinstance(suspension, str):
            no_action += [_no_action(seat, suspension) for seat in user_seats]
        else:
            actions.append(suspension)
    return Derived(sorted(actions, key=_order), no_action, seats, candidates, runs)


def build_plan(published: Path, filters: Filters, *, now: datetime | None = None) -> dict[str, Any]:
    """The plan for the published copy ``published`` (see the module docstring)."""
    derived = derive(published)
    seats, candidates, runs = derived.seats, derived.candidates, derived.runs
    known_orgs = {seat["org_id"] for seat in seats} | {run[0] for run in runs}
    if filters.org_id is not None and filters.org_id not in known_orgs:
        raise ConfigurationError(
            f"--org {filters.org_id} is not in the published copy; known orgs: "
            f"{', '.join(sorted(known_orgs)) or 'none'}."
        )
    actions = [action for action in derived.actions if _matches(action, filters)]
    if filters.max_actions is not None:
        actions = actions[: filters.max_actions]
    no_action = [seat for seat in derived.no_action if _matches(seat, filters)]
    as_of = max((run[3] for run in runs if filters.org_id in (None, run[0])), default=None)
    if as_of is None:
        raise NoDataError(f"{published} has no successful run: run `seatwatch run` first.")
    plan: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "as_of_date": as_of,
        "expires_after": (date.fromisoformat(as_of) + MAX_PLAN_AGE).isoformat(),
        "created_at": _iso(now or datetime.now(UTC)),
        "source": {
            "published_path": str(published),
            "runs": [
                {"org_id": org, "run_id": run_id, "extracted_at": _iso(extracted), "as_of_date": day}
                for org, run_id, extracted, day in runs
                if filters.org_id in (None, org)
            ],
        },
        "filters": {
            "org": filters.org_id,
            "product": filters.product,
            "reason": filters.reason,
            "max": filters.max_actions,
        },
        "counts": {
            "seats_held": sum(1 for seat in seats if filters.org_id in (None, seat["org_id"])),
            "candidates": len([c for c in candidates if _matches(c, filters)]),
            "actions": len(actions),
            "writes": sum(len(action["writes"]) for action in actions),
            "seats_freed": sum(len(action["seats"]) for action in actions),
            "actions_by_kind": dict(Counter(action["kind"] for action in actions)),
            "no_action": len(no_action),
            "no_action_by_reason": dict(Counter(entry["reason"].split(":")[0] for entry in no_action)),
        },
        "monthly_cost_freed": round(sum(action["monthly_cost"] for action in actions), 2),
        "actions": actions,
        "no_action": no_action,
    }
    plan["hash"] = content_hash(plan)
    return plan


def cap_for(seats_held: int, requested: int) -> int:
    """The cap of one apply run: ``requested``, never more than MAX_SHARE_OF_SEATS of ``seats_held`` (the
    seats the published copy counts now: a plan's own count is only what it says)."""
    share = math.floor(seats_held * MAX_SHARE_OF_SEATS)
    return max(0, min(requested, share))


def check_plan_file(path: Path) -> None:
    """Refuse anything but a regular file before it is opened: reading a FIFO (or a device) would block."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise PlanError(
            f"--plan {path}: no such file; make one with `seatwatch reclaim plan --output`."
        ) from None
    except OSError as error:
        raise PlanError(f"--plan {path} cannot be read ({error.strerror or error}).") from None
    if not stat.S_ISREG(mode):
        raise PlanError(
            f"--plan {path} is not a regular file: give the JSON file `seatwatch reclaim plan` wrote."
        )


_ACTION_FIELDS = {
    "action_key": str,
    "kind": str,
    "org_id": str,
    "account_id": str,
    "seats": list,
    "writes": list,
}


def _shape_error(plan: dict[str, Any]) -> str | None:
    """What makes ``plan`` unusable as a plan (a missing or mistyped field), or None."""
    if not isinstance(plan.get("as_of_date"), str) or not isinstance(plan.get("actions"), list):
        return "it has no as_of_date or no actions"
    try:
        date.fromisoformat(plan["as_of_date"])
    except ValueError:
        return f"its as_of_date {plan['as_of_date']!r} is not a date"
    for number, action in enumerate(plan["actions"], start=1):
        if not isinstance(action, dict):
            return f"action {number} is not an object"
        for name, kind in _ACTION_FIELDS.items():
            if not isinstance(action.get(name), kind):
                return f"action {number} has no valid {name}"
        if not action["seats"] or not action["writes"]:
            return f"action {number} has no seat or no write"
        if not all(isinstance(item, dict) for item in action["seats"] + action["writes"]):
            return f"action {number} has a seat or a write that is not an object"
    return None


def load_plan(path: Path) -> dict[str, Any]:
    """The plan in ``path``, refused (exit 2, one line) when it is not a plan or its content changed.

    The content hash guards against accidents (a truncated copy, an edit by mistake), not against anyone: it
    is no signature, and whoever edits the file can recompute it. Apply therefore trusts nothing in the file
    but which actions it asks for, and derives each of them again from the current data
    (:mod:`pipeline.reclaim.current`).
    """
    check_plan_file(path)
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PlanError(f"--plan {path} is not a readable plan file ({error}).") from None
    if not isinstance(plan, dict) or plan.get("format") != PLAN_FORMAT:
        raise PlanError(f"--plan {path} is not a Seatwatch reclaim plan ({PLAN_FORMAT}).")
    if plan.get("hash") != content_hash(plan):
        raise PlanError(
            f"--plan {path} was changed after it was made (its content hash does not match): make a new plan "
            "with `seatwatch reclaim plan` rather than editing one."
        )
    problem = _shape_error(plan)
    if problem:
        raise PlanError(
            f"--plan {path} is not a usable plan: {problem}. Make a new one with `seatwatch reclaim plan`."
        )
    return plan


def expiry(as_of_date: str) -> date:
    """The last day (the API's date) a plan or data as of ``as_of_date`` may be acted on."""
    return date.fromisoformat(as_of_date) + MAX_PLAN_AGE


def age_refusal(
    plan: dict[str, Any], api_now: datetime, data_as_of: str | None = None, clock: str = "the API's date"
) -> str | None:
    """Why the plan may not be acted on today (the API's date), or None.

    Both the plan and the data apply derives its actions from (``data_as_of``, the published copy's as-of
    date) must be recent: an as-of date written into a plan proves nothing.
    """
    today = api_now.astimezone(UTC).date()
    as_of = min(filter(None, (plan["as_of_date"], data_as_of)))
    if today <= expiry(as_of):
        return None
    if as_of == plan["as_of_date"]:
        return (
            f"The plan is as of {plan['as_of_date']} and may be applied until {expiry(as_of)} ({clock} is "
            f"{today}): run `seatwatch run`, then make a new plan."
        )
    return (
        f"The published data is as of {as_of} and may be acted on until {expiry(as_of)} ({clock} is "
        f"{today}): run `seatwatch run` first."
    )


def check_age(plan: dict[str, Any], api_now: datetime, data_as_of: str | None = None) -> None:
    """Refuse (exit 2) a plan, or data, whose as-of date + 1 day is before the API's today."""
    refusal = age_refusal(plan, api_now, data_as_of)
    if refusal:
        raise PlanError(refusal)


CSV_HEADER = (
    "action", "org_id", "account_id", "email", "display_name", "product_key", "site_id", "reclaim_reason",
    "last_active_date", "days_since_last_active", "monthly_seat_price", "writes", "reason",
)  # fmt: skip


def csv_rows(plan: dict[str, Any]) -> list[list[Any]]:
    """One row per seat: the action that frees it, or no_action and why."""
    rows = []
    for action in plan["actions"]:
        writes = "; ".join(
            f"{w['write']} {w['group_name'] or w['group_id']}" if w["group_id"] else w["write"]
            for w in action["writes"]
        )
        for seat in action["seats"]:
            rows.append(
                [
                    action["kind"], action["org_id"], action["account_id"], action["email"],
                    action["display_name"], seat["product_key"], seat["site_id"], seat["reclaim_reason"],
                    seat["last_active_date"], seat["days_since_last_active"], seat["monthly_seat_price"],
                    writes, "",
                ]
            )  # fmt: skip
    for entry in plan["no_action"]:
        rows.append(
            [
                "no_action", entry["org_id"], entry["account_id"], entry["email"], "", entry["product_key"],
                entry["site_id"], entry["reclaim_reason"], "", "", entry["monthly_seat_price"], "",
                entry["reason"],
            ]
        )  # fmt: skip
    return rows
