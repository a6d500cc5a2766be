"""``seatwatch simulator``: serve a simulated Atlassian Admin API on loopback until interrupted.

stdout gets exactly three shell-ready lines (``eval "$(seatwatch simulator ... &)"``-friendly)::

    ATLASSIAN_API_BASE_URL=http://127.0.0.1:8765/admin
    ATLASSIAN_ORG_ID=<id>[,<id>...]
    ATLASSIAN_API_KEY=<key>

Everything else goes to stderr. Every flag ``--foo-bar`` can also come from ``SEATWATCH_SIM_FOO_BAR`` (read
when the command runs); a flag on the command line wins over the environment.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from pipeline.config.errors import ConfigurationError
from pipeline.runtime.signals import StopState, stoppable
from pipeline.simulator.model import (
    DEFAULT_RATE_LIMITS,
    PRODUCTS,
    VARIANTS,
    FaultConfig,
    SimulatorConfig,
)

ENV_PREFIX = "SEATWATCH_SIM_"
DEFAULT_PORT = 8765
RATE_CLASSES = ("events", "last_active", "default")


@dataclass(frozen=True)
class _Option:
    flag: str
    parse: Callable[[str], Any]
    help: str
    default: Any = None

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.dest.upper()


def _number(kind: Callable[[str], Any], minimum: float, maximum: float | None = None) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        value = kind(raw)
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(
                f"must be between {minimum} and {maximum}" if maximum else f"must be >= {minimum}"
            )
        return value

    return parse


def _start(raw: str) -> datetime:
    """A date (the clock starts at 06:00 UTC that day, like the default) or an ISO date-time."""
    try:
        return datetime.combine(date.fromisoformat(raw), time(6), tzinfo=UTC)
    except ValueError:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rate_limits(raw: str) -> dict[str, int]:
    """``CLASS=N`` pairs, comma-separated (the environment form) or one per ``--rate-limit``."""
    limits = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        name, _, count = pair.partition("=")
        if name not in RATE_CLASSES:
            raise ValueError(f"unknown class {name!r} (use {', '.join(RATE_CLASSES)})")
        limits[name] = _number(int, 1)(count)
    return limits


def _renames(raw: str) -> dict[str, str]:
    """``OLD=NEW`` pairs, comma-separated: world product keys and the key activity is reported under."""
    renames = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        old, _, new = pair.partition("=")
        if old not in PRODUCTS or not new:
            raise ValueError(f"use OLD=NEW with OLD one of {', '.join(PRODUCTS)}")
        renames[old] = new
    return renames


def _choice(name: str) -> Callable[[str], str]:
    allowed = VARIANTS[name]

    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"use {' or '.join(allowed)}")
        return raw

    return parse


def _flag(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
        raise ValueError("must be true or false")
    return lowered in ("1", "true", "yes", "on")


_OPTIONS = (
    _Option("--host", str, "loopback address to listen on", "127.0.0.1"),
    _Option("--port", _number(int, 0, 65535), "port (0 = any free port)", DEFAULT_PORT),
    _Option("--users", _number(int, 1), "users per org at the start", 500),
    _Option("--orgs", _number(int, 1), "number of orgs", 1),
    _Option("--seed", int, "world seed: same seed, same world", 7),
    _Option("--start", _start, "simulated start, YYYY-MM-DD (06:00 UTC) or ISO date-time; default today"),
    _Option("--lag-hours", _number(float, 0), "hours before activity becomes visible", 24.0),
    _Option("--latency-ms", _number(float, 0), "added latency per request (ms)", 0.0),
    _Option("--jitter-ms", _number(float, 0), "latency jitter, +/- ms", 0.0),
    _Option("--error-rate", _number(float, 0, 1), "share of requests answered 500/502/503", 0.0),
    _Option("--slow-rate", _number(float, 0, 1), "share of requests answered after --slow-seconds", 0.0),
    _Option("--slow-seconds", _number(float, 0), "delay of a slow response", 35.0),
    _Option("--drop-rate", _number(float, 0, 1), "share of connections dropped mid-response", 0.0),
    _Option("--malformed-rate", _number(float, 0, 1), "share of 200 responses with truncated JSON", 0.0),
    _Option("--storm", _number(int, 0), "answer the first N requests with 429", 0),
    _Option(
        "--lost-answer-rate",
        _number(float, 0, 1),
        "share of writes carried out and then answered 504 or cut off (the answer is lost)",
        0.0,
    ),
    _Option(
        "--product-keys",
        _choice("product_keys"),
        "v2: v2 endpoints say jira/confluence/jira-servicedesk and ari:cloud:jira::site/… (v1 "
        "last-active-dates keeps its keys); v1: the v1 keys everywhere",
        "v2",
    ),
    _Option(
        "--product-access",
        _choice("product_access"),
        "all: v2 productAccess lists every accessible product; used: only products used",
        "all",
    ),
    _Option(
        "--reset-precision",
        _choice("reset_precision"),
        "second, or minute (X-RateLimit-Reset truncated to the minute)",
        "second",
    ),
    _Option(
        "--activity-after-removal",
        _choice("activity_after_removal"),
        "drop: v1 last-active-dates stops reporting a product once the user's access to it ended; keep: it "
        "still reports its last activity (the API does not say which)",
        "drop",
    ),
    _Option(
        "--rename-activity-key",
        _renames,
        "OLD=NEW[,...]: last-active data names product OLD as NEW (an API that renamed a product)",
        {},
    ),
)


# On/off flags: given on the command line, or SEATWATCH_SIM_<NAME> set to a true value.
_SWITCHES = (
    ("--retry-after", "send Retry-After on 429"),
    ("--scoped-key", "the events endpoints refuse the key as they refuse a key created with scopes"),
    (
        "--read-only-key",
        "the write endpoints refuse the key (403) as they refuse a key that may read but not write",
    ),
    (
        "--lose-first-writes",
        "carry out every first write to a resource, then answer it 504 (the answer is lost)",
    ),
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulator",
        help="serve a simulated Atlassian Admin API on loopback",
        description="Serve a simulated Atlassian Admin API on loopback until interrupted. stdout gets the "
        "three ATLASSIAN_* variables a client needs; everything else goes to stderr.",
        epilog=(
            f"Every flag --foo-bar can also be set as {ENV_PREFIX}FOO_BAR.\n\n"
            "examples:\n"
            "  seatwatch simulator --users 500 --seed 7 --port 8765\n"
            "  seatwatch simulator --error-rate 0.05 --storm 20 --latency-ms 50 "
            "--rate-limit last_active=600\n"
            "  seatwatch simulator --lost-answer-rate 0.2   # writes carried out, answers lost: retries"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for option in _OPTIONS:
        parser.add_argument(option.flag, default=None, metavar=option.dest.upper(), help=option.help)
    parser.add_argument(
        "--rate-limit",
        action="append",
        default=None,
        metavar="CLASS=N",
        help=f"requests per window for a class ({', '.join(RATE_CLASSES)}); repeatable",
    )
    for flag, help_text in _SWITCHES:
        parser.add_argument(flag, action="store_true", default=None, help=help_text)
    parser.set_defaults(handler=run)


def _resolve(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, Any]:
    """Command line, then ``SEATWATCH_SIM_*``, then the default; a bad value is a one-line error."""
    values: dict[str, Any] = {}
    for option in _OPTIONS:
        raw, source = getattr(args, option.dest), option.flag
        if raw is None and env.get(option.env, "").strip():
            raw, source = env[option.env].strip(), option.env
        if raw is None:
            values[option.dest] = option.default
            continue
        try:
            values[option.dest] = option.parse(raw)
        except ValueError as error:
            raise ConfigurationError(f"{source} {raw!r} is not valid: {error}.") from None
    limits_raw = ",".join(args.rate_limit) if args.rate_limit else env.get(f"{ENV_PREFIX}RATE_LIMIT", "")
    try:
        values["rate_limits"] = _rate_limits(limits_raw)
    except ValueError as error:
        raise ConfigurationError(f"--rate-limit / {ENV_PREFIX}RATE_LIMIT {limits_raw!r}: {error}.") from None
    for flag, _ in _SWITCHES:
        name = flag.removeprefix("--").replace("-", "_")
        env_name = f"{ENV_PREFIX}{name.upper()}"
        raw_flag = env.get(env_name, "")
        try:
            values[name] = bool(getattr(args, name, None)) or _flag(raw_flag)
        except ValueError as error:
            raise ConfigurationError(f"{env_name} {raw_flag!r} {error}.") from None
    return values


# Options whose value is the FaultConfig (or SimulatorConfig) field of the same name, as it is.
_FAULT_OPTIONS = (
    "latency_ms",
    "jitter_ms",
    "error_rate",
    "slow_rate",
    "slow_seconds",
    "drop_rate",
    "malformed_rate",
    "lost_answer_rate",
    "lose_first_writes",
)
_WORLD_OPTIONS = (
    "users",
    "orgs",
    "seed",
    "lag_hours",
    "retry_after",
    "product_keys",
    "product_access",
    "reset_precision",
    "scoped_key",
    "read_only_key",
    "activity_after_removal",
)


def build_config(values: Mapping[str, Any]) -> SimulatorConfig:
    """The world's ``SimulatorConfig`` from resolved option values."""
    from pipeline.simulator.faults import check_fault_config

    faults = FaultConfig(storm_requests=values["storm"], **{name: values[name] for name in _FAULT_OPTIONS})
    try:
        check_fault_config(faults)
    except ValueError as error:
        raise ConfigurationError(f"Fault flags: {error}.") from None
    extra = {"start": values["start"]} if values["start"] is not None else {}
    return SimulatorConfig(
        rate_limits={**DEFAULT_RATE_LIMITS, **values["rate_limits"]},
        faults=faults,
        activity_key_renames=values["rename_activity_key"],
        **{name: values[name] for name in _WORLD_OPTIONS},
        **extra,
    )


def run(args: argparse.Namespace) -> int:
    # Imported here: `seatwatch --help` and the other commands never load uvicorn or build a world.
    from pipeline.simulator.server import check_loopback, start_in_thread
    from pipeline.simulator.world import World

    values = _resolve(args, os.environ)
    check_loopback(values["host"])
    config = build_config(values)
    print(f"Building {config.orgs} org(s) of {config.users} users (seed {config.seed})...", file=sys.stderr)
    world = World(config)
    with start_in_thread(world, host=values["host"], port=values["port"]) as simulator:
        print(f"ATLASSIAN_API_BASE_URL={simulator.base_url}")
        print(f"ATLASSIAN_ORG_ID={','.join(world.orgs)}")
        print(f"ATLASSIAN_API_KEY={world.api_key}", flush=True)
        print(
            f"Simulator serving at {simulator.base_url} (simulated now {world.now:%Y-%m-%dT%H:%M:%SZ}); "
            "press Ctrl-C to stop.",
            file=sys.stderr,
            flush=True,
        )
        with (
            stoppable(stopped_line=_stopped_line, within_dagster=False) as stop,
            contextlib.suppress(KeyboardInterrupt),
        ):
            _serve_until_interrupted()
    print(_stopped_line(stop), file=sys.stderr)
    return stop.exit_code


def _stopped_line(stop: StopState) -> str:
    return f"Simulator stopped ({stop.name})."


def _serve_until_interrupted() -> None:
    """Block the main thread (the server runs in its own) until Ctrl-C raises KeyboardInterrupt."""
    threading.Event().wait()
