"""``seatwatch doctor`` against the simulator: each API variant, a scoped key, an unknown product key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pipeline.cli import main
from pipeline.doctor.checks import diagnose, reset_precision
from pipeline.simulator.app import create_app
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from tests.support.extract import make_world, point_cli_at, settings_for
from tests.support.variants import VARIANTS


def _checks(world: World, tmp_path: Path) -> dict[str, tuple[str, str]]:
    settings = settings_for(world, tmp_path / "data")
    [report] = diagnose(settings, transport=httpx.ASGITransport(create_app(world)))
    return {check.name: (check.status, check.detail) for check in report.checks}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_is_ready_and_its_keys_map(variant: str, tmp_path: Path) -> None:
    checks = _checks(make_world(80, **VARIANTS[variant]), tmp_path)
    clock = checks.pop("clock")  # the fixed simulated start is hours away from now: its own test below
    assert clock[0] in ("ok", "warn")
    assert {status for status, _ in checks.values()} == {"ok"}, checks
    keys = checks["product keys"][1]
    assert "jira-software→jira" in keys  # v1 last-active-dates speaks the v1 keys in every variant
    if VARIANTS[variant].get("product_keys", "v2") == "v2":
        assert "jira-servicedesk→jira-service-management" in keys and "jira→jira" in keys
    assert "agree" in checks["bulk vs per-user"][1] and checks["users"][1] == "80 listed"
    listing = checks["bulk productAccess"][1]
    used_only = VARIANTS[variant].get("product_access") == "used"
    assert ("used products only" in listing) == used_only
    assert checks["direct grants"][1] == "counts.resources returned for 80 of 80 users"


def test_a_scoped_key_and_an_unknown_product_key_are_problems(tmp_path: Path) -> None:
    checks = _checks(make_world(40, scoped_key=True), tmp_path / "scoped")
    assert checks["audit log"][0] == "fail" and "without scopes" in checks["audit log"][1]
    renamed = make_world(40, activity_key_renames={"confluence": "confluence-next"})
    checks = _checks(renamed, tmp_path / "renamed")
    assert checks["product keys"][0] == "fail" and "confluence-next" in checks["product keys"][1]


@pytest.mark.parametrize("days_behind", [0, 2])
def test_a_far_api_clock_is_one_warning_row(days_behind: int, tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(days=days_behind)
    world = World(SimulatorConfig(users=20, seed=3, start=start))
    status, detail = _checks(world, tmp_path)["clock"]
    if days_behind:
        assert status == "warn" and "48.0 h behind this machine's" in detail
    else:
        assert status == "ok"


def test_reset_precision() -> None:
    date = datetime(2031, 5, 17, 9, 0, 17, tzinfo=UTC)
    assert reset_precision([("2031-05-17T09:00:42.500Z", date, None)]) == "fractional"
    assert reset_precision([("2031-05-17T09:00:42Z", date, None)]) == "second"
    assert reset_precision([("2031-05-17T09:00:00Z", date, None)]) == "minute"
    assert reset_precision([("2031-05-17T09:01:00Z", date, None)]) == "whole minutes"


def test_doctor_command_exit_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bad org id (exit 2): tests/test_settings.py, for every command.
    world = make_world(30, scoped_key=True)
    with start_in_thread(world) as simulator:
        point_cli_at(monkeypatch, simulator.base_url, world)
        assert main(["doctor", "--json"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert not report["ready"] and world.api_key not in json.dumps(report)
    ready = make_world(30)
    with start_in_thread(ready) as simulator:
        point_cli_at(monkeypatch, simulator.base_url, ready)
        assert main(["doctor"]) == 0
        assert "ready" in capsys.readouterr().out
