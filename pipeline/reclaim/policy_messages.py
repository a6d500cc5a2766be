"""The words of the reclaim policy: the notice a seat holder receives and the admin digest.

Plain text, short lines, no HTML: it reads the same in any mail program, in Slack and in Teams, and it is
the exact text the outbox folder shows a newcomer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pipeline.reclaim.notices import Notice

PRODUCT_NAMES = {
    "jira": "Jira",
    "confluence": "Confluence",
    "jira-service-management": "Jira Service Management",
}


def _product(key: str) -> str:
    return PRODUCT_NAMES.get(key, key)


def seat_line(seat: dict) -> str:
    last = seat.get("last_active_date")
    used = f"last used {last}" if last else "never used"
    return f"  - {_product(seat['product_key'])} on site {seat['site_id']} ({used})"


def notice_subject(removal: date) -> str:
    return f"Your Atlassian access will be removed on {removal.isoformat()} unless you use it"


def notice_body(name: str | None, notices: Sequence[Notice], removal: date, reply_to: str | None) -> str:
    seats = [seat_line(seat) for notice in notices for seat in notice.seat_list]
    ask = f"ask {reply_to}" if reply_to else "reply to your Atlassian administrator"
    return "\n".join(
        [
            f"Hello {name or 'there'},",
            "",
            "You hold these Atlassian licences that have not been used recently:",
            *seats,
            "",
            f"They will be removed on {removal.isoformat()} (UTC) to free the seats for others.",
            "",
            "To keep a seat, either:",
            f"  - use the product (log in and open it) before {removal.isoformat()}; or",
            f"  - {ask} to keep it for you.",
            "",
            "If you no longer need them, there is nothing to do; access removed by mistake is restored",
            "on request.",
            "",
            "-- Seatwatch, on behalf of your Atlassian administrators",
        ]
    )


def digest_text(
    mode: str,
    noticed: Sequence[Notice],
    cancelled: Sequence[Notice],
    removed: Sequence[Notice],
    held: Sequence[Notice],
    failed: Sequence[Notice],
    undo_runs: Sequence[str],
    problems: Sequence[str],
    would_notice: int = 0,
) -> str:
    def who(notice: Notice) -> str:
        seats = ", ".join(f"{_product(s['product_key'])}@{s['site_id']}" for s in notice.seat_list)
        return f"{notice.email or notice.account_id} ({seats})"

    lines = [f"Reclaim policy: {mode}."]
    if mode == "report":
        lines.append(f"Would notify {would_notice} seat(s) (set SEATWATCH_RECLAIM_POLICY=notify or enforce).")
    lines.append(f"Noticed: {len(noticed)}")
    lines += [
        f"  {who(n)}, removal on {n.removal_date or 'the send date + the notice period'}" for n in noticed
    ]
    lines.append(f"Cancelled: {len(cancelled)}")
    lines += [f"  {who(n)}: {n.reason}" for n in cancelled]
    lines.append(f"Removed: {len(removed)}")
    lines += [f"  {who(n)}" for n in removed]
    lines += [f"  undo: seatwatch reclaim undo --apply-run {run[:8]}" for run in undo_runs]
    lines.append(f"Held back by a cap: {len(held)}")
    lines += [f"  {who(n)}" for n in held]
    lines.append(f"Failed: {len(failed)}")
    lines += [f"  {who(n)}: {n.reason}" for n in failed]
    if problems:
        lines.append("Problems:")
        lines += [f"  {problem}" for problem in problems]
    return "\n".join(lines)
