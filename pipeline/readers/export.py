"""CSV exports read from the published copy (``data/seatwatch.duckdb``).

The users export is the one Atlassian's own export cannot produce: invited users who never accepted are
``Invited``, never ``Active``, and every product gets its own access and last-active columns. Files are
written to a temporary name and renamed, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.config.errors import ConfigurationError, SeatwatchError
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
USER_COLUMNS = ["account_id", "name", "email", "status", "invited_at", "added_to_org", "last_active"]
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


def _write_csv(output: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    output = output.expanduser()
    if output.is_dir():
        raise ConfigurationError(f"--output {output} is a folder: give a file name such as users.csv.")
    if not output.parent.exists():
        raise ConfigurationError(
            f"--output: folder {output.parent} does not exist; create it or pick another."
        )
    handle, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    count = 0
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                count += 1
        Path(tmp_name).replace(output)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return count


def _org_filter(con: Any, org_id: str | None) -> tuple[str, list[Any]]:
    if org_id is None:
        return "", []
    known = {row[0] for row in con.execute("select distinct org_id from marts.dim_users").fetchall()}
    if org_id not in known:
        raise ConfigurationError(
            f"--org {org_id} is not in the warehouse; known orgs: {', '.join(sorted(known)) or 'none'}."
        )
    return "where u.org_id = ?", [org_id]


def export_users(published: Path, output: Path, org_id: str | None = None) -> int:
    """Write one row per user; returns the number of rows."""
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
            row = [account, name or "", email or "", STATUS_WORDS.get(status, status or "")]
            # Dates for "added" and "last active", as in Atlassian's own export; the invite keeps its time.
            row += [_iso(invited_at), _iso(_date(added)), _iso(_date(last_active))]
            for product in products:
                access, last = seats.get((org, account, product), (False, None))
                row += ["Yes" if access else "No", _iso(last)]
            yield row

    return _write_csv(output, header, rows())


def export_plan(published: Path, output: Path, org_id: str | None = None) -> int:
    """Write the reclamation plan (candidates that are not protected)."""
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
    return _write_csv(output, PLAN_COLUMNS, ([_iso(v) if v is not None else "" for v in r] for r in rows))
