"""The report's notice funnel: noticed → kept by using it → removed → restored, from the two marts."""

from __future__ import annotations

from pipeline.readers.report.marts import read_notice_funnel as _funnel
from pipeline.warehouse import connect


def test_the_funnel_counts_each_step_once() -> None:
    with connect() as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.reclaim_notices (notice_id varchar, org_id varchar, account_id varchar, "
            "state varchar, reason varchar, apply_run_id varchar)"
        )
        con.execute(
            "create table marts.reclaim_actions "
            "(apply_run_id varchar, account_id varchar, journal_state varchar)"
        )
        assert _funnel(con, {"org": None}) == {"noticed": 0, "kept": 0, "removed": 0, "restored": 0}
        con.execute(
            """insert into marts.reclaim_notices values
            ('n1', 'o', 'a1', 'planned', null, null),
            ('n2', 'o', 'a2', 'sent', null, null),
            ('n3', 'o', 'a3', 'cancelled', 'kept: used again (last active 2026-01-02)', null),
            ('n4', 'o', 'a4', 'cancelled', 're-check: active in jira since the plan', 'r1'),
            ('n5', 'o', 'a5', 'cancelled', 'the seat is gone (removed some other way)', null),
            ('n6', 'o', 'a6', 'applied', null, 'r1'),
            ('n7', 'o', 'a7', 'applied', null, 'r1')"""
        )
        # a6's removal was undone (two writes of one action: still one seat restored)
        con.execute(
            "insert into marts.reclaim_actions values "
            "('r1', 'a6', 'undone'), ('r1', 'a6', 'undone'), ('r1', 'a7', 'applied')"
        )
        assert _funnel(con, {"org": None}) == {"noticed": 6, "kept": 2, "removed": 2, "restored": 1}
        assert _funnel(con, {"org": "other"})["noticed"] == 0
