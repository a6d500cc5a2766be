"""The notices journal in warehouse.duckdb (``reclaim.notices``, beside ``reclaim.actions``), published as
``marts.reclaim_notices``; and the record of each policy run (``reclaim.policy_runs``).

One row per seat action (the plan's ``action_key``) and notice; the rows of one person in one run share one
message (``message_id``). States: ``planned`` (written before the message goes) → ``sent`` (the server
accepted it; ``sent_at`` on the API's clock, ``removal_date`` counted from it) → ``cancelled`` (the holder
used the seat again, became exempt or lost it some other way) | ``due`` (the removal date has come) →
``applied`` | ``failed``. A process killed between the write and the send leaves ``planned``: the next run
sends the same message (the same Message-ID) again, so no notice is lost and none is sent twice to a server
that had not accepted it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pipeline.reclaim.tables import ReclaimTables
from pipeline.warehouse import check_unlocked, connect

PLANNED, SENT, CANCELLED, DUE, APPLIED, FAILED = "planned", "sent", "cancelled", "due", "applied", "failed"
OPEN = (PLANNED, SENT, DUE)

_DDL = """
create table if not exists reclaim.notices (
    notice_id varchar primary key,
    org_id varchar not null,
    account_id varchar not null,
    email varchar,
    display_name varchar,
    action_key varchar not null,
    seats varchar not null,
    reclaim_reason varchar,
    state varchar not null,
    reason varchar,
    message_id varchar not null,
    policy_run_id varchar not null,
    planned_at timestamp with time zone not null,
    sent_at timestamp with time zone,
    removal_date date,
    send_attempts integer not null default 0,
    apply_run_id varchar,
    closed_at timestamp with time zone
);
create table if not exists reclaim.policy_runs (
    run_id varchar primary key,
    mode varchar not null,
    started_at timestamp with time zone not null,
    api_now timestamp with time zone,
    finished_at timestamp with time zone,
    status varchar not null,
    noticed integer,
    cancelled integer,
    removed integer,
    held integer,
    failed integer,
    problems varchar
);
"""
_COLUMNS = (
    "notice_id", "org_id", "account_id", "email", "display_name", "action_key", "seats", "reclaim_reason",
    "state", "reason", "message_id", "policy_run_id", "planned_at", "sent_at", "removal_date",
    "send_attempts", "apply_run_id", "closed_at",
)  # fmt: skip


@dataclass(frozen=True)
class Notice:
    notice_id: str
    org_id: str
    account_id: str
    email: str | None
    display_name: str | None
    action_key: str
    seats: str  # JSON: [{product_key, site_id, last_active_date}]
    reclaim_reason: str | None
    state: str
    reason: str | None
    message_id: str
    policy_run_id: str
    planned_at: datetime
    sent_at: datetime | None
    removal_date: date | None
    send_attempts: int
    apply_run_id: str | None
    closed_at: datetime | None

    @property
    def seat_list(self) -> list[dict[str, Any]]:
        return json.loads(self.seats)


class Notices(ReclaimTables):
    """An open notices journal: ``with Notices.open(warehouse_path) as notices:``."""

    DDL = _DDL

    @classmethod
    def read_only(cls, warehouse: Path) -> Notices | None:
        """The journal opened for reading (``seatwatch reclaim policy``); None before any policy run."""
        if not warehouse.exists():
            return None
        check_unlocked(warehouse)
        return cls._if_created(connect(warehouse, read_only=True), "notices")

    def _select(self, where: str, params: Sequence[Any]) -> list[Notice]:
        rows = self._con.execute(
            f"select {', '.join(_COLUMNS)} from reclaim.notices where {where} order by planned_at, notice_id",
            list(params),
        ).fetchall()
        return [Notice(*row) for row in rows]

    def open_notices(self) -> list[Notice]:
        return self._select("state in (select unnest(?))", [list(OPEN)])

    def all(self) -> list[Notice]:
        return self._select("true", [])

    def add_planned(self, rows: Sequence[dict[str, Any]]) -> None:
        """Journal notices before their message goes, all in one transaction."""
        self._con.execute("begin")
        try:
            for row in rows:
                self._con.execute(
                    "insert into reclaim.notices (notice_id, org_id, account_id, email, display_name, "
                    "action_key, seats, reclaim_reason, state, message_id, policy_run_id, planned_at) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
                    [
                        row["notice_id"], row["org_id"], row["account_id"], row["email"], row["display_name"],
                        row["action_key"], row["seats"], row["reclaim_reason"], PLANNED, row["message_id"],
                        row["policy_run_id"], row["planned_at"],
                    ],
                )  # fmt: skip
            self._con.execute("commit")
        except BaseException:
            self._con.execute("rollback")
            raise

    def mark_sent(self, message_id: str, sent_at: datetime, removal_date: date) -> None:
        self._con.execute(
            "update reclaim.notices set state = ?, sent_at = ?, removal_date = ?, reason = null, "
            "send_attempts = send_attempts + 1 where message_id = ? and state = ?",
            [SENT, sent_at, removal_date, message_id, PLANNED],
        )

    def send_failed(self, message_ids: Sequence[str], reason: str) -> None:
        self._con.execute(
            "update reclaim.notices set reason = ?, send_attempts = send_attempts + 1 "
            "where message_id in (select unnest(?)) and state = ?",
            [reason[:300], list(message_ids), PLANNED],
        )

    def settle(
        self, notice_id: str, state: str, *, reason: str | None, at: datetime, apply_run_id: str | None = None
    ) -> None:
        closed = at if state in (CANCELLED, APPLIED, FAILED) else None
        self._con.execute(
            "update reclaim.notices set state = ?, reason = ?, closed_at = ?, "
            "apply_run_id = coalesce(?, apply_run_id) where notice_id = ?",
            [state, reason, closed, apply_run_id, notice_id],
        )

    def applied_on(self, day: date) -> int:
        """Removals the policy applied on ``day`` (the API's date): the per-day cap counts them."""
        row = self._con.execute(
            "select count(*) from reclaim.notices "
            "where state = ? and cast(closed_at at time zone 'UTC' as date) = ?",
            [APPLIED, day],
        ).fetchone()
        return int(row[0])

    def _has(self, table: str) -> bool:
        """The reclaim journal's tables exist once an apply has run (pipeline/reclaim/journal.py)."""
        row = self._con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'reclaim' and table_name = ?", [table]
        ).fetchone()
        return bool(row and row[0])

    def apply_results(self, apply_run_id: str) -> dict[str, tuple[set[str], str | None]]:
        """Per action key of one apply run: the states of its writes and the first reason given."""
        if not self._has("actions"):
            return {}
        rows = self._con.execute(
            "select action_key, state, reason from reclaim.actions where apply_run_id = ? order by seq",
            [apply_run_id],
        ).fetchall()
        results: dict[str, tuple[set[str], str | None]] = {}
        for key, state, reason in rows:
            states, first = results.get(key, (set(), None))
            results[key] = (states | {state}, first or reason)
        return results

    def latest_apply_run(self, plan_hash: str) -> str | None:
        if not self._has("runs"):
            return None
        row = self._con.execute(
            "select run_id from reclaim.runs where plan_hash = ? order by started_at desc limit 1",
            [plan_hash],
        ).fetchone()
        return row[0] if row else None

    def unfinished_policy_plan(self) -> str | None:
        """The plan file of a policy apply run that was killed (still running), to resume it first."""
        if not self._has("runs"):
            return None
        row = self._con.execute(
            "select plan_path from reclaim.runs where trigger = 'policy' and status = 'running' "
            "order by started_at desc limit 1"
        ).fetchone()
        return row[0] if row else None

    # Policy runs

    def start_policy_run(self, run_id: str, mode: str, api_now: datetime) -> None:
        self._con.execute(
            "insert into reclaim.policy_runs (run_id, mode, started_at, api_now, status) "
            "values (?, ?, ?, ?, ?) "
            "on conflict (run_id) do update set status = excluded.status, api_now = excluded.api_now",
            [run_id, mode, datetime.now(UTC), api_now, "running"],
        )

    def finish_policy_run(
        self, run_id: str, status: str, counts: dict[str, int], problems: list[str]
    ) -> None:
        self._con.execute(
            "update reclaim.policy_runs set finished_at = ?, status = ?, noticed = ?, cancelled = ?, "
            "removed = ?, held = ?, failed = ?, problems = ? where run_id = ?",
            [
                datetime.now(UTC), status, counts.get("noticed", 0), counts.get("cancelled", 0),
                counts.get("removed", 0), counts.get("held", 0), counts.get("failed", 0),
                " | ".join(problems)[:2000] or None, run_id,
            ],
        )  # fmt: skip
