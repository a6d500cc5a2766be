"""Run the extract against a simulator world and read the raw tables back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.config.seeds import product_aliases, product_key
from pipeline.config.settings import Settings, load_settings
from pipeline.extract.run import ExtractResult, run_extract
from pipeline.simulator.app import create_app
from pipeline.simulator.model import FaultConfig, SimulatorConfig
from pipeline.simulator.world import World
from pipeline.warehouse import connect

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def make_world(
    users: int = 500, *, seed: int = 11, faults: FaultConfig | None = None, **options: Any
) -> World:
    config = SimulatorConfig(users=users, seed=seed, start=START, faults=faults or FaultConfig(), **options)
    return World(config)


def point_cli_at(
    monkeypatch: pytest.MonkeyPatch,
    base_url: str,
    world: World,
    *,
    org_id: str | None = None,
    key: str | None = None,
    data_dir: Path | None = None,
) -> None:
    """Point an in-process ``seatwatch`` command at ``world`` served on ``base_url``: its first org and its
    key unless ``org_id`` or ``key`` say otherwise, and ``data_dir`` as the data folder when given."""
    monkeypatch.setenv("ATLASSIAN_API_BASE_URL", base_url)
    monkeypatch.setenv("ATLASSIAN_ORG_ID", next(iter(world.orgs)) if org_id is None else org_id)
    monkeypatch.setenv("ATLASSIAN_API_KEY", world.api_key if key is None else key)
    if data_dir is not None:
        monkeypatch.setenv("SEATWATCH_DATA_DIR", str(data_dir))


def settings_for(
    world: World, data_dir: Path, base_url: str = "https://simulator.test/admin", **env: str
) -> Settings:
    return load_settings(
        {
            "ATLASSIAN_ORG_ID": ",".join(world.orgs),
            "ATLASSIAN_API_KEY": world.api_key,
            "ATLASSIAN_API_BASE_URL": base_url,
            "SEATWATCH_DATA_DIR": str(data_dir),
            "SEATWATCH_ACTIVITY_LAG_HOURS": str(world.config.lag_hours),
            **env,
        }
    )


def extract_in_process(world: World, settings: Settings, **options: Any) -> ExtractResult:
    """The extract through httpx's ASGI transport: the real client against the simulator, no sockets."""
    transport = httpx.ASGITransport(app=create_app(world))
    return run_extract(settings, client_options={"transport": transport}, **options)


def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with connect(settings.warehouse_path, read_only=True) as con:
        return con.execute(sql).fetchall()


def truth_last_active(world: World) -> dict[tuple[str, str, str, str], datetime]:
    """(org, account, product, site) → last-active the API has shown, per the simulator's truth."""
    result = {}
    for user in world.truth()["users"]:
        if user["removed_at"]:
            continue
        for seat in user["seats"]:
            if seat["visible_last_active_at"]:
                key = (user["org_id"], user["account_id"], seat["product_key"], seat["site_id"])
                result[key] = datetime.fromisoformat(seat["visible_last_active_at"])
    return result


def raw_last_active(settings: Settings) -> dict[tuple[str, str, str, str], datetime]:
    """Raw keeps the endpoint's product keys; compared with the truth through the alias seed, as dbt does."""
    aliases = product_aliases()
    rows = query(
        settings,
        """select org_id, account_id, product_key, site_id, last_active_at
           from raw.user_product_last_active""",
    )
    latest: dict[tuple[str, str, str, str], datetime] = {}
    for org, account, product, site, at in rows:
        key = (org, account, product_key(product, aliases) or product, site)
        latest[key] = max(latest.get(key, at), at).astimezone(UTC)
    return latest


# What a raw load holds, table by table, in an order that does not depend on the load (faults, retries).
TABLES = {
    "users": "select org_id, account_id, account_status, membership_status from raw.users order by all",
    "last_active": """select org_id, account_id, product_key, site_id, last_active_date, last_active_at
                      from raw.user_product_last_active order by all""",
    "events": "select org_id, event_id, action, subject_account_id from raw.audit_events order by all",
    "memberships": "select * exclude (_dlt_load_id, _dlt_id) from raw.group_memberships order by all",
    "grants": "select * exclude (_dlt_load_id, _dlt_id) from raw.group_product_grants order by all",
    "workspaces": "select * exclude (_dlt_load_id, _dlt_id) from raw.workspaces order by all",
}
