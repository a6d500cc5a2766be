"""CSV exports read from the published copy (``data/seatwatch.duckdb``).

The users export is the one Atlassian's own export cannot produce: invited users who never accepted are
``Invited``, never ``Active``, and every product gets its own access and last-active columns. Where and
how files are written (temporary file and rename, refused targets, permissions, ``-``, Excel) is
:mod:`pipeline.readers.csv_output`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.config.errors import ConfigurationError, SeatwatchError
from pipeline.readers.csv_output import OutputTarget
from pipeline.warehouse import connect

STATUS_WORDS = {
    "active": "Active",
    "invited_pending": "Invited",
    "inactive": "Inactive",
    "never_active": "Never active",
    "suspended": "Suspended",
    "deactivated": "Deactivated",
    "closed": "Closed",
    "removed": "Removed",
    "not_invited": "Not invited",
}
USER_COLUMNS = [
    "org_id",
    "account_id",
    "name",
    "email",
    "status",
    "invited_at",
    "added_to_org",
    "last_active",
]
PLAN_COLUMNS = [
    "org_id",
    "account_id",
    "email",
    "display_name",
    "product_key",
    "site_id",
    "site_url",
    "reclaim_reason",
    "reclaim_lane",
    "days_since_last_active",
    "groups_to_remove_from",
    "other_products_granted_by_those_groups",
    "monthly_seat_price",
    "as_of_date",
]


class ExportError(SeatwatchError):
    pass


def _iso(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is None:  # the published copy's timestamps are UTC
        value = value.replace(tzinfo=UTC)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _date(value: Any) -> Any:
    return value.date() if hasattr(value, "date") else value


def _open_published(published: Path) -> Any:
    if not published.exists():
        raise ExportError(f"{published} does not exist yet: run `seatwatch run` first.")
    return connect(published, read_only=True)


def _org_filter(con: Any, org_id: str | None) -> tuple[str, list[Any]]:
    if org_id is None:
        return "", []
    known = {row[0] for row in con.execute("select distinct org_id from marts.dim_users").fetchall()}
    if org_id not in known:
        raise ConfigurationError(
            f"--org {org_id} is not in the warehouse; known orgs: {', '.join(sorted(known)) or 'none'}."
        )
    return "where u.org_id = ?", [org_id]


def export_users(
    published: Path, output: str | os.PathLike[str], org_id: str | None = None, *, excel: bool = False
) -> int:
    """Write one row per user; returns the number of rows. ``output`` may be ``-`` (standard output)."""
    target = OutputTarget.check(output)  # refused before any work, so nothing is ever half-written
    with _open_published(published) as con:
        where, params = _org_filter(con, org_id)
        products = [
            row[0]
            for row in con.execute(
                "select distinct product_key from marts.fct_user_product_access order by product_key"
            ).fetchall()
        ]
        users = con.execute(
            f"""
            select u.org_id, u.account_id, u.display_name, u.email, u.lifecycle_status, u.invited_at,
                   u.added_to_org_at, u.last_active_at
            from marts.dim_users as u
            {where}
            order by u.org_id, lower(u.display_name), u.account_id
            """,
            params,
        ).fetchall()
        per_product = con.execute(
            """
            select org_id, account_id, product_key, bool_or(has_access), max(last_active_date)
            from marts.fct_user_product_access
            group by all
            """
        ).fetchall()
    seats = {(org, account, product): (access, last) for org, account, product, access, last in per_product}
    header = USER_COLUMNS + [f"{p} {suffix}" for p in products for suffix in ("access", "last active")]

    def rows() -> Iterable[list[Any]]:
        for org, account, name, email, status, invited_at, added, last_active in users:
            row = [org, account, name or "", email or "", STATUS_WORDS.get(status, status or "")]
            # Dates for "added" and "last active", as in Atlassian's own export; the invite keeps its time.
            row += [_iso(invited_at), _iso(_date(added)), _iso(_date(last_active))]
            for product in products:
                access, last = seats.get((org, account, product), (False, None))
                row += ["Yes" if access else "No", _iso(last)]
            yield row

    return target.write(header, rows(), excel=excel)


def export_plan(
    published: Path, output: str | os.PathLike[str], org_id: str | None = None, *, excel: bool = False
) -> int:
    """Write the reclamation plan (candidates that are not protected)."""
    target = OutputTarget.check(output)
    with _open_published(published) as con:
        where, params = _org_filter(con, org_id)
        rows = con.execute(
            f"""
            select {", ".join("u." + column for column in PLAN_COLUMNS)}
            from marts.license_reclamation_plan as u
            {where}
            order by u.org_id, u.reclaim_lane, u.product_key, u.account_id
            """,
            params,
        ).fetchall()
    return target.write(
        PLAN_COLUMNS, ([_iso(v) if v is not None else "" for v in r] for r in rows), excel=excel
    )
