"""The policy's decision for one pass, on a made-up plan and journal: who gets a notice, what is cancelled
(and why), what is due, what the per-day cap holds back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from pipeline.reclaim.notices import Notice
from pipeline.reclaim.policy import MAX_REMOVALS_PER_DAY, Decision, _new_rows, decide

TODAY = date(2026, 12, 21)


def _action(account: str, product: str = "jira") -> dict:
    return {
        "action_key": f"seat/o/{account}/{product}/s1",
        "org_id": "o",
        "account_id": account,
        "email": f"{account}@example.com",
        "display_name": account,
        "reclaim_reason": "inactive",
        "seats": [{"product_key": product, "site_id": "s1", "last_active_date": "2026-06-01"}],
    }


def _notice(account: str, state: str, removal: date | None, product: str = "jira") -> Notice:
    seats = json.dumps([{"product_key": product, "site_id": "s1", "last_active_date": None}])
    key = f"seat/o/{account}/{product}/s1"
    planned = datetime(2026, 12, 1, tzinfo=UTC)
    return Notice(
        f"n-{account}-{product}", "o", account, None, None, key, seats, "inactive",
        state, None, f"<m-{account}@x>", "r0", planned, None, removal, 1, None, None,
    )  # fmt: skip


def test_a_pass_notices_cancels_and_finds_what_is_due() -> None:
    plan = {
        "actions": [_action("due"), _action("waiting"), _action("new"), _action("unsent")],
        "no_action": [
            {
                "org_id": "o",
                "account_id": "exempt",
                "product_key": "jira",
                "site_id": "s1",
                "reason": "protected: exempt (contractor)",
            },
        ],
    }
    journal = [
        _notice("due", "sent", date(2026, 12, 21)),
        _notice("waiting", "sent", date(2026, 12, 22)),
        _notice("unsent", "planned", None),
        _notice("used", "sent", date(2026, 12, 21)),
        _notice("exempt", "sent", date(2026, 12, 21)),
        _notice("gone", "due", date(2026, 12, 20)),
    ]
    seats = {
        ("o", "used", "jira", "s1"): (None, "2026-12-18"),
        ("o", "exempt", "jira", "s1"): ("inactive", None),
    }
    decision = decide(plan, journal, seats, TODAY, "enforce", applied_today=0)
    assert [a["account_id"] for a in decision.new] == ["new"]
    assert [n.account_id for n in decision.due] == ["due"]
    assert [n.account_id for n in decision.waiting] == ["waiting"]
    assert [n.account_id for n in decision.unsent] == ["unsent"]
    reasons = {notice.account_id: reason for notice, reason in decision.cancel}
    assert reasons == {
        "used": "kept: used again (last active 2026-12-18)",
        "exempt": "no longer acted on: protected: exempt (contractor)",
        "gone": "the seat is gone (removed some other way)",
    }
    assert decision.cap == MAX_REMOVALS_PER_DAY
    # notify never makes anything due; the per-day cap counts today's removals
    assert not decide(plan, journal, seats, TODAY, "notify", applied_today=0).due
    assert decide(plan, journal, seats, TODAY, "enforce", applied_today=MAX_REMOVALS_PER_DAY).cap == 0
    assert decide(plan, journal, seats, TODAY, "enforce", applied_today=20).cap == MAX_REMOVALS_PER_DAY - 20


def test_a_seat_noticed_after_a_message_left_unsent_goes_in_a_message_of_its_own() -> None:
    """A message an earlier run left ``planned`` may have reached the server (a kill between its 250 and the
    journal): the next run resends it as it was, under its Message-ID, which a receiver that saw it drops.
    A seat noticed since must not ride in it, or its holder would never read of it before the removal."""
    earlier = _notice("p", "planned", None)  # run r0's message <m-p@x>, Jira
    decision = Decision(new=[_action("p", "confluence"), _action("p", "bitbucket"), _action("q")])
    now = datetime(2026, 12, 21, tzinfo=UTC)
    rows = _new_rows(decision, "r1", now, "seatwatch@example.com")
    ids = {row["action_key"].split("/")[3]: row["message_id"] for row in rows if row["account_id"] == "p"}
    assert earlier.message_id not in ids.values()
    # still one message per person for what this run notices
    assert ids["confluence"] == ids["bitbucket"]
    assert len({row["message_id"] for row in rows}) == 2
