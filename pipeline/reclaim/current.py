"""The plan is a request, never an authority: apply derives every action again from the current data.

A plan file says which actions someone asked for. Its content hash catches accidents only (it is no
signature: whoever edits the file can recompute it), so nothing else in the file is believed. Just before an
action is acted on, :class:`CurrentData` — the current rules applied to the published copy, exactly as
``seatwatch reclaim plan`` applies them (:func:`pipeline.reclaim.plan.derive`) — must call for the same
action: same org, user and kind, the same writes. It is then that action's facts (last activity, when the
user joined, the groups, the price), not the file's, that the fresh read compares with the API
(:mod:`pipeline.reclaim.fresh`) and that the journal records. The cap is a share of the seats the data
holds now, not of a count the file states.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.reclaim.plan import cap_for, derive

SeatKey = tuple[str, str, str, str]  # (org, account, product, site)


def _writes(action: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted(
        (str(write.get("write")), str(write.get("directory_id")), str(write.get("group_id") or ""))
        for write in action["writes"]
    )


def _seat_keys(action: dict[str, Any]) -> list[SeatKey]:
    return [
        (action["org_id"], action["account_id"], str(seat.get("product_key")), str(seat.get("site_id")))
        for seat in action["seats"]
    ]


@dataclass(frozen=True)
class CurrentData:
    actions: dict[str, dict[str, Any]]  # action key → the action the current rules call for
    left_alone: dict[SeatKey, str]  # candidate seat → why the current rules take no action on it
    seats_held: dict[str, int]  # org → seats held
    as_of: dict[str, str]  # org → as-of date of its latest successful run
    seats: dict[SeatKey, dict[str, Any]] = field(default_factory=dict)  # every seat held, as the data has it

    @classmethod
    def load(cls, published: Path) -> CurrentData:
        derived = derive(published)
        held: dict[str, int] = {}
        for seat in derived.seats:
            held[seat["org_id"]] = held.get(seat["org_id"], 0) + 1
        left_alone = {
            (entry["org_id"], entry["account_id"], entry["product_key"], entry["site_id"]): entry["reason"]
            for entry in derived.no_action
        }
        return cls(
            actions={action["action_key"]: action for action in derived.actions},
            left_alone=left_alone,
            seats_held=held,
            as_of={org: as_of for org, _, _, as_of in derived.runs},
            seats={
                (seat["org_id"], seat["account_id"], seat["product_key"], seat["site_id"]): seat
                for seat in derived.seats
            },
        )

    def cap(self, org_ids: Iterable[str], requested: int) -> int:
        """``requested``, never more than the share of the seats the data holds now in ``org_ids``."""
        return cap_for(sum(self.seats_held.get(org, 0) for org in set(org_ids)), requested)

    def data_as_of(self, org_ids: Iterable[str]) -> str | None:
        """The oldest as-of date of the data of ``org_ids`` (None when the copy has no run of any)."""
        return min((self.as_of[org] for org in set(org_ids) if org in self.as_of), default=None)

    def refusal(
        self, requested: dict[str, Any], *, remaining: list[dict[str, Any]] | None = None
    ) -> str | None:
        """Why the current rules would not put ``requested`` (a plan's action) in a plan, or None.

        ``remaining``: the writes still to make of an action a run had started (some of its writes done):
        they must be among the writes the current data calls for, which may be fewer by now.
        """
        current = self.actions.get(requested["action_key"])
        if current is None:
            return self._why_no_action(_seat_keys(requested))
        for name in ("org_id", "account_id", "kind"):
            if requested.get(name) != current[name]:
                return f"the plan's {name} differs from the current data's ({current[name]})"
        wanted = _writes({"writes": remaining}) if remaining is not None else _writes(requested)
        called_for = _writes(current)
        if (remaining is None and wanted != called_for) or not set(wanted) <= set(called_for):
            names = ", ".join(w["group_name"] or w["group_id"] or w["write"] for w in current["writes"])
            return f"the plan's writes differ from what the current data calls for ({names})"
        if remaining is None and sorted(_seat_keys(requested)) != sorted(_seat_keys(current)):
            return "the plan's seats differ from the current data's"
        return None

    def _why_no_action(self, keys: list[SeatKey]) -> str:
        for key in keys:
            if key in self.left_alone:
                return f"the current data leaves this seat alone ({self.left_alone[key]})"
        for key in keys:
            seat = self.seats.get(key)
            if seat is None:
                continue
            if seat["exempt_reason"]:
                return f"the current data protects this account ({seat['exempt_reason']})"
            return (
                f"the current data does not call this seat a reclaim candidate (last active "
                f"{seat['last_active_date'] or 'never'}, lane {seat['lane'] or 'none'})"
            )
        return "the user holds no such seat in the current data"
