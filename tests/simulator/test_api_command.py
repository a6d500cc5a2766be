"""``seatwatch simulator``: flags, SEATWATCH_SIM_* variables, the three stdout lines, loopback only."""

from __future__ import annotations

import os

import httpx
import pytest

from pipeline import cli
from pipeline.commands import simulator as command


def _config(argv: list[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None):
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    args = cli.build_parser().parse_args(["simulator", *argv])
    values = command._resolve(args, os.environ)
    return values, command.build_config(values)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    values, config = _config([], monkeypatch)
    assert (values["host"], values["port"]) == ("127.0.0.1", 8765)
    assert (config.users, config.orgs, config.seed, config.lag_hours) == (500, 1, 7, 24.0)
    assert config.rate_limits == {"events": 10, "last_active": 200, "default": 600}
    assert not config.retry_after and config.faults.error_rate == 0


def test_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "SEATWATCH_SIM_USERS": "42",
        "SEATWATCH_SIM_ERROR_RATE": "0.2",
        "SEATWATCH_SIM_RATE_LIMIT": "events=3,last_active=50",
        "SEATWATCH_SIM_RETRY_AFTER": "true",
        "SEATWATCH_SIM_STORM": "4",
    }
    argv = [
        "--users",
        "7",
        "--start",
        "2026-01-05",
        "--lag-hours",
        "4",
        "--drop-rate",
        "0.1",
        "--latency-ms",
        "5",
    ]
    _, config = _config([*argv, "--rate-limit", "default=9"], monkeypatch, env)
    assert config.users == 7, "a flag beats the environment"
    assert (
        config.faults.error_rate == 0.2
        and config.faults.drop_rate == 0.1
        and config.faults.storm_requests == 4
    )
    assert config.faults.latency_ms == 5
    assert config.rate_limits == {"events": 10, "last_active": 200, "default": 9}, (
        "--rate-limit replaces the env"
    )
    assert config.retry_after
    assert config.start.isoformat() == "2026-01-05T06:00:00+00:00" and config.lag_hours == 4
    _, from_env = _config([], monkeypatch, env)
    assert from_env.rate_limits == {"events": 3, "last_active": 50, "default": 600}


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--host", "0.0.0.0"], {}, "loopback"),  # noqa: S104 (refused)
        (["--error-rate", "1.5"], {}, "--error-rate"),
        ([], {"SEATWATCH_SIM_PORT": "http"}, "SEATWATCH_SIM_PORT"),
        (["--rate-limit", "users=5"], {}, "unknown class"),
        (["--error-rate", "0.6", "--drop-rate", "0.6"], {}, "add up"),
        ([], {"SEATWATCH_SIM_RETRY_AFTER": "maybe"}, "RETRY_AFTER"),
    ],
)
def test_bad_settings_are_one_line_errors(argv, env, message, monkeypatch, capsys) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["simulator", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1


def test_prints_three_lines_and_serves_until_interrupted(monkeypatch, capsys) -> None:
    seen = {}

    def serve_then_interrupt() -> None:
        lines = capsys.readouterr().out.splitlines()
        seen["lines"] = lines
        env = dict(line.split("=", 1) for line in lines)
        response = httpx.get(
            f"{env['ATLASSIAN_API_BASE_URL']}/v1/orgs/{env['ATLASSIAN_ORG_ID'].split(',')[1]}",
            headers={"Authorization": f"Bearer {env['ATLASSIAN_API_KEY']}"},
        )
        seen["status"] = response.status_code
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "_serve_until_interrupted", serve_then_interrupt)
    assert (
        cli.main(["simulator", "--port", "0", "--users", "10", "--orgs", "2"]) == 130
    )  # Ctrl-C: the exit code of a stop, like every command
    names = [line.split("=", 1)[0] for line in seen["lines"]]
    assert names == ["ATLASSIAN_API_BASE_URL", "ATLASSIAN_ORG_ID", "ATLASSIAN_API_KEY"]
    assert seen["status"] == 200
    captured = capsys.readouterr()
    assert captured.out == "" and "stopped" in captured.err


def test_lost_answer_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    _, config = _config(["--lost-answer-rate", "0.25"], monkeypatch, {"SEATWATCH_SIM_LOSE_FIRST_WRITES": "1"})
    assert config.faults.lost_answer_rate == 0.25 and config.faults.lose_first_writes
    monkeypatch.delenv("SEATWATCH_SIM_LOSE_FIRST_WRITES")
    _, default = _config([], monkeypatch)
    assert default.faults.lost_answer_rate == 0 and not default.faults.lose_first_writes
