"""The reclaim journal in warehouse.duckdb (schema ``reclaim``), published as ``marts.reclaim_actions``.

Written only under the data-folder lock (the CLI) or the ``duckdb_writer`` pool plus the lock (the Dagster
job), like every other write of the warehouse. Every statement commits on its own (DuckDB's WAL makes it
durable), so a process killed at any point leaves the journal as of its last statement: a write is
journaled ``intent`` before its call and ``applied`` / ``skipped`` / ``failed`` after it, and a run that
finds ``intent`` re-reads the API to learn whether the call got through (see :mod:`pipeline.reclaim.apply`).

Rows are keyed by ``action_id``: a hash of the plan's hash and the write, so a write of a plan is journaled
once only, whichever run gets to it; for an undo, of the undo run and the write it reverts (an undo run
resumed after a crash keeps its id; a later undo of what a user limit refused is a new run).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipeline.reclaim.tables import ReclaimTables
from pipeline.warehouse import connect

PLANNED, INTENT, APPLIED, SKIPPED, FAILED, UNDONE = (
    "planned",
    "intent",
    "applied",
    "skipped",
    "failed",
    "undone",
)
# A run is `running` while its process works (and after it was killed: the next command that holds the data
# folder knows it is dead), `stopped` when it ended early but cleanly (an error, Ctrl-C), `finished`, or
# `abandoned` on request (`seatwatch reclaim apply --abandon`): its writes not made stay skipped.
RUNNING, FINISHED, STOPPED, ABANDONED = "running", "finished", "stopped", "abandoned"
REASON_LIMIT = 300


def clip(text: str, limit: int = REASON_LIMIT) -> str:
    """``text`` in at most ``limit`` characters, cut at a space (never mid-word) and marked with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:(") + "…"


_DDL = """
create table if not exists reclaim.actions (
    action_id varchar primary key,
    plan_hash varchar not null,
    apply_run_id varchar not null,
    seq integer not null,
    action_key varchar not null,
    action varchar not null,
    org_id varchar not null,
    directory_id varchar,
    group_id varchar,
    group_name varchar,
    account_id varchar not null,
    product_key varchar,
    site_id varchar,
    reclaim_reason varchar,
    monthly_seat_price decimal(10, 2),
    state varchar not null,
    reason varchar,
    request_id varchar,
    planned_at timestamp with time zone not null,
    intent_at timestamp with time zone,
    done_at timestamp with time zone,
    undoes_action_id varchar,
    undone_by_run_id varchar
);
create table if not exists reclaim.runs (
    run_id varchar primary key,
    kind varchar not null,
    plan_hash varchar,
    plan_path varchar,
    undoes_run_id varchar,
    trigger varchar not null,
    max_actions integer,
    started_at timestamp with time zone not null,
    finished_at timestamp with time zone,
    status varchar not null
);
"""


def action_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Entry:
    """One journal row, as the apply and undo loops read it back."""

    action_id: str
    seq: int
    action_key: str
    action: str
    org_id: str
    directory_id: str | None
    group_id: str | None
    group_name: str | None
    account_id: str
    product_key: str | None
    site_id: str | None
    state: str
    undoes_action_id: str | None


_ENTRY_COLUMNS = ", ".join(Entry.__dataclass_fields__)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    kind: str
    plan_hash: str | None
    plan_path: str | None
    undoes_run_id: str | None
    max_actions: int | None
    status: str


def _now() -> datetime:
    return datetime.now(UTC)


class Journal(ReclaimTables):
    """An open journal: ``with Journal.open(warehouse_path) as journal:``."""

    DDL = _DDL

    @classmethod
    def peek(cls, warehouse: Path) -> Journal | None:
        """The journal read-only, without the data folder (a dry run); None when there is none yet or
        another process has the warehouse open for writing."""
        if not warehouse.exists():
            return None
        try:
            con = connect(warehouse, read_only=True)
        except duckdb.Error:
            return None
        return cls._if_created(con, "runs")

    # Runs

    def unfinished_runs(self) -> list[RunRecord]:
        """Runs that were killed (still ``running``) or stopped at an error, oldest first."""
        rows = self._con.execute(
            "select run_id, kind, plan_hash, plan_path, undoes_run_id, max_actions, status "
            "from reclaim.runs where status in (?, ?) order by started_at",
            [RUNNING, STOPPED],
        ).fetchall()
        return [RunRecord(*row) for row in rows]

    def all_runs(self) -> list[RunRecord]:
        rows = self._con.execute(
            "select run_id, kind, plan_hash, plan_path, undoes_run_id, max_actions, status "
            "from reclaim.runs order by started_at"
        ).fetchall()
        return [RunRecord(*row) for row in rows]

    def run(self, run_id: str) -> RunRecord | None:
        row = self._con.execute(
            "select run_id, kind, plan_hash, plan_path, undoes_run_id, max_actions, status "
            "from reclaim.runs where run_id = ?",
            [run_id],
        ).fetchone()
        return RunRecord(*row) if row else None

    def start_run(
        self,
        run_id: str,
        kind: str,
        trigger: str,
        *,
        plan_hash: str | None = None,
        plan_path: str | None = None,
        undoes_run_id: str | None = None,
        max_actions: int | None = None,
    ) -> None:
        self._con.execute(
            "insert into reclaim.runs values (?, ?, ?, ?, ?, ?, ?, ?, null, ?)",
            [run_id, kind, plan_hash, plan_path, undoes_run_id, trigger, max_actions, _now(), RUNNING],
        )

    def reopen_run(self, run_id: str) -> None:
        self._con.execute("update reclaim.runs set status = ? where run_id = ?", [RUNNING, run_id])

    def next_seq(self, run_id: str) -> int:
        """The last sequence number the run used (0 when none)."""
        row = self._con.execute(
            "select coalesce(max(seq), 0) from reclaim.actions where apply_run_id = ?", [run_id]
        ).fetchone()
        return int(row[0])

    def finish_run(self, run_id: str, status: str) -> None:
        self._con.execute(
            "update reclaim.runs set status = ?, finished_at = ? where run_id = ?", [status, _now(), run_id]
        )

    # Actions

    def plan_runs(self, plan_hash: str) -> list[RunRecord]:
        """The apply runs of one plan, oldest first."""
        rows = self._con.execute(
            "select run_id, kind, plan_hash, plan_path, undoes_run_id, max_actions, status "
            "from reclaim.runs where plan_hash = ? order by started_at",
            [plan_hash],
        ).fetchall()
        return [RunRecord(*row) for row in rows]

    def action_states(self, plan_hash: str) -> dict[str, str]:
        """Action key → the states of its writes (e.g. ``applied``), for the plan's journaled actions."""
        rows = self._con.execute(
            "select action_key, string_agg(distinct state, '/' order by state) from reclaim.actions "
            "where plan_hash = ? group by action_key",
            [plan_hash],
        ).fetchall()
        return dict(rows)

    def known_action_keys(self, plan_hash: str) -> set[str]:
        """Action keys of the plan that some run journaled already (never picked again)."""
        rows = self._con.execute(
            "select distinct action_key from reclaim.actions where plan_hash = ?", [plan_hash]
        ).fetchall()
        return {row[0] for row in rows}

    def add_planned(self, rows: Sequence[dict[str, Any]]) -> None:
        """Journal a run's writes as ``planned``, all in one transaction."""
        now = _now()
        self._con.execute("begin")
        try:
            for row in rows:
                self._con.execute(
                    """
                    insert into reclaim.actions (
                        action_id, plan_hash, apply_run_id, seq, action_key, action, org_id, directory_id,
                        group_id, group_name, account_id, product_key, site_id, reclaim_reason,
                        monthly_seat_price, state, planned_at, undoes_action_id
                    ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    on conflict do nothing
                    """,
                    [
                        row["action_id"], row["plan_hash"], row["apply_run_id"], row["seq"],
                        row["action_key"], row["action"], row["org_id"], row.get("directory_id"),
                        row.get("group_id"),
                        row.get("group_name"), row["account_id"], row.get("product_key"), row.get("site_id"),
                        row.get("reclaim_reason"), row.get("monthly_seat_price"), PLANNED, now,
                        row.get("undoes_action_id"),
                    ],
                )  # fmt: skip
            self._con.execute("commit")
        except BaseException:
            self._con.execute("rollback")
            raise

    def entries(self, run_id: str, states: Sequence[str] | None = None) -> list[Entry]:
        sql = f"select {_ENTRY_COLUMNS} from reclaim.actions where apply_run_id = ?"
        params: list[Any] = [run_id]
        if states:
            sql += " and state in (select unnest(?))"
            params.append(list(states))
        return [Entry(*row) for row in self._con.execute(sql + " order by seq", params).fetchall()]

    def mark_intent(self, entry_id: str) -> None:
        self._con.execute(
            "update reclaim.actions set state = ?, intent_at = ? where action_id = ?",
            [INTENT, _now(), entry_id],
        )

    def settle(
        self,
        entry_id: str,
        state: str,
        *,
        reason: str | None = None,
        request_id: str | None = None,
        done_at: datetime | None = None,
    ) -> None:
        self._con.execute(
            "update reclaim.actions set state = ?, reason = ?, request_id = ?, done_at = ? "
            "where action_id = ?",
            [state, None if reason is None else clip(reason), request_id, done_at, entry_id],
        )

    def mark_undone(self, entry_id: str, undo_run_id: str) -> None:
        self._con.execute(
            "update reclaim.actions set state = ?, undone_by_run_id = ? where action_id = ?",
            [UNDONE, undo_run_id, entry_id],
        )

    def counts(self, run_id: str) -> dict[str, int]:
        rows = self._con.execute(
            "select state, count(*) from reclaim.actions where apply_run_id = ? "
            "group by state order by state",
            [run_id],
        ).fetchall()
        return dict(rows)

    def rows(self, run_id: str) -> list[dict[str, Any]]:
        """The run's rows for reports (the Dagster materialisation, the command's last lines)."""
        cursor = self._con.execute(
            "select seq, action, org_id, account_id, group_name, product_key, site_id, state, reason, "
            "request_id from reclaim.actions where apply_run_id = ? order by seq",
            [run_id],
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
