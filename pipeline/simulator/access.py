"""Which seats users can use: group grants (``atlassian/user``) plus direct access."""

from __future__ import annotations

from pipeline.simulator.model import Org, SeatKey, User


def access_map(org: Org) -> dict[str, set[SeatKey]]:
    """Seats per current user in one pass over the group memberships: O(memberships), not O(users × groups).

    Users without any access are absent.
    """
    seats: dict[str, set[SeatKey]] = {}
    for group in org.groups.values():
        granted = group.product_seats()
        if not granted:
            continue
        for account_id in group.members:
            seats.setdefault(account_id, set()).update(granted)
    for user in org.users.values():
        if user.direct_access:
            seats.setdefault(user.account_id, set()).update(user.direct_access)
    return seats


def seats_of(org: Org, user: User) -> set[SeatKey]:
    """One user's seats: O(groups)."""
    seats = set(user.direct_access)
    for group in org.groups.values():
        if user.account_id in group.members:
            seats.update(group.product_seats())
    return seats


def usage_counts(org: Org, seats_by_user: dict[str, set[SeatKey]]) -> dict[SeatKey, int]:
    usage = {workspace.seat: 0 for workspace in org.workspaces}
    for seats in seats_by_user.values():
        for seat in seats:
            usage[seat] = usage.get(seat, 0) + 1
    return usage


def ensure_capacity(org: Org, seats_by_user: dict[str, set[SeatKey]]) -> None:
    """Keep every workspace's licensed capacity at or above its users with access (buy seats in 10s)."""
    usage = usage_counts(org, seats_by_user)
    for workspace in org.workspaces:
        used = usage.get(workspace.seat, 0)
        if workspace.capacity < used:
            workspace.capacity = -(-(used + 5) // 10) * 10
