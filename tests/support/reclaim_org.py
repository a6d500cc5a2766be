"""A simulator org to reclaim seats in, as the shared demo run saw it: the demo run's published copy in a data
folder of its own, and a world rebuilt from the demo's seed at the moment of the demo's extract (the demo
org is rebuilt from its seed, so it is the org the published copy describes), served on loopback.

Also what an edited plan is made of: an action written by hand for any seat of the published copy, and a
plan file whose content hash is recomputed (the hash is no signature).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.config.secret import Secret
from pipeline.config.settings import OrgCredentials, Settings
from pipeline.extract.demo import DEMO_SEED, DEMO_USERS
from pipeline.reclaim.plan import Filters, build_plan, content_hash
from pipeline.simulator.model import FaultConfig, SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from pipeline.warehouse import connect


@dataclass
class ReclaimOrg:
    world: World
    base_url: str
    org_id: str
    plan_path: Path
    plan: dict[str, Any]
    data_dir: Path

    @property
    def published(self) -> Path:
        return self.data_dir / "seatwatch.duckdb"

    @property
    def settings(self) -> Settings:
        credentials = (OrgCredentials(self.org_id, Secret(self.world.api_key)),)
        return Settings(self.base_url, credentials, 24.0, self.data_dir, wait_timeout_seconds=0)

    def env(self) -> dict[str, str]:
        return {
            "ATLASSIAN_API_BASE_URL": self.base_url,
            "ATLASSIAN_ORG_ID": self.org_id,
            "ATLASSIAN_API_KEY": self.world.api_key,
            "SEATWATCH_DATA_DIR": str(self.data_dir),
        }

    def control(self, path: str, body: dict[str, Any]) -> None:
        """POST a simulator control endpoint (``/activity``, ``/user-limit``, ``/advance``...)."""
        response = httpx.post(
            f"{self.base_url}/_simulator/{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.world.api_key}"},
        )
        assert response.status_code == 200, response.text

    def changed(self, *actions: str) -> list[Any]:
        """The writes that changed the world (the simulator's write log), of ``actions`` if given."""
        return [w for w in self.world.writes.log if w.changed and (not actions or w.action in actions)]

    def cli(self, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
        """``seatwatch ARGV`` in process against this org: (exit code, stdout, stderr)."""
        from pipeline.cli import main

        for name, value in self.env().items():
            monkeypatch.setenv(name, value)
        out, err = StringIO(), StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(argv))
        return code, out.getvalue(), err.getvalue()

    def apply_plan(self, monkeypatch: pytest.MonkeyPatch, *, max_actions: int) -> tuple[int, str, str]:
        """``seatwatch reclaim apply`` of this org's plan, confirmed, at most ``max_actions`` actions."""
        argv = ("reclaim", "apply", "--plan", str(self.plan_path), "--yes", "--max", str(max_actions))
        return self.cli(monkeypatch, *argv)


def demo_extract_moment(published: Path) -> tuple[str, Any]:
    with connect(published, read_only=True) as con:
        org_id, extracted = con.execute("select org_id, extracted_at from marts.pipeline_runs").fetchone()
    return org_id, extracted.replace(tzinfo=UTC)


@contextmanager
def reclaim_org(
    demo_published: Path, root: Path, *, faults: FaultConfig | None = None
) -> Iterator[ReclaimOrg]:
    """A :class:`ReclaimOrg` in ``root`` (its data folder holds a copy of ``demo_published``), with the plan
    of every action the published copy calls for written to ``root/plan.json``."""
    org_id, extracted = demo_extract_moment(demo_published)
    config = SimulatorConfig(users=DEMO_USERS, seed=DEMO_SEED, lag_hours=24, start=extracted)
    if faults is not None:
        config.faults = faults
    world = World(config)
    data_dir = root / "data"
    data_dir.mkdir(parents=True)
    shutil.copyfile(demo_published, data_dir / "seatwatch.duckdb")
    plan = build_plan(data_dir / "seatwatch.duckdb", Filters())
    plan_path = root / "plan.json"
    plan_path.write_text(json.dumps(plan))
    with start_in_thread(world) as simulator:
        yield ReclaimOrg(world, simulator.base_url, org_id, plan_path, plan, data_dir)


def write_plan(path: Path, plan: dict[str, Any]) -> Path:
    """``plan`` written to ``path`` with its content hash recomputed, as anyone who edits a plan can."""
    plan = {key: value for key, value in plan.items() if key != "hash"}
    plan["hash"] = content_hash(plan)
    path.write_text(json.dumps(plan))
    return path


_SEAT_SQL = """
select u.email, u.display_name, s.reclaim_reason, s.monthly_seat_price, u.added_to_org_at,
       g.group_id, g.group_name, g.directory_id
from marts.fct_user_product_access as s
inner join marts.dim_users as u using (org_id, account_id)
inner join marts.fct_seat_granting_groups as g using (org_id, account_id, product_key, site_id)
where s.org_id = ? and s.account_id = ? and s.product_key = ? and s.site_id = ?
order by g.group_id
"""


def hand_written_removal(
    published: Path, org_id: str, account_id: str, product_key: str, site_id: str, **seat_changes: Any
) -> dict[str, Any]:
    """A removal action for any seat of the published copy, written by hand the way the plan writes one
    (its every granting group), with the seat's facts replaced by ``seat_changes`` (a last activity of
    9999-12-31, say)."""
    with connect(published, read_only=True) as con:
        rows = con.execute(_SEAT_SQL, [org_id, account_id, product_key, site_id]).fetchall()
    assert rows, f"no granting group for {account_id} {product_key}"
    email, name, reason, price, added, *_ = rows[0]
    seat = {
        "product_key": product_key,
        "site_id": site_id,
        "reclaim_reason": reason or "inactive",
        "last_active_date": None,
        "days_since_last_active": 400,
        "monthly_seat_price": float(price or 0),
        **seat_changes,
    }
    return {
        "action_key": f"seat/{org_id}/{account_id}/{product_key}/{site_id}",
        "kind": "remove_memberships",
        "org_id": org_id,
        "account_id": account_id,
        "email": email,
        "display_name": name,
        "lifecycle_status": "inactive",
        "added_to_org_at": added.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if added else None,
        "invited_at": None,
        "user_last_active_date": None,
        "reclaim_reason": seat["reclaim_reason"],
        "seats": [seat],
        "writes": [
            {
                "write": "remove_group_member",
                "directory_id": directory,
                "group_id": group,
                "group_name": group_name,
            }
            for *_, group, group_name, directory in rows
        ],
        "monthly_cost": seat["monthly_seat_price"],
    }
