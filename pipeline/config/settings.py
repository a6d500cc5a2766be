"""Where Seatwatch's Python code reads its configuration (the one other reader is dbt's ``profiles.yml``,
which takes the warehouse path from the dbt var the pipeline passes, else ``SEATWATCH_WAREHOUSE_PATH`` or
``SEATWATCH_DATA_DIR``, for dbt run by hand).

Everything is read at run time through :func:`load_settings`, never at import time, so importing any module
(Dagster loading definitions, tests) needs no credentials and no network.

Environment (the README's *Configuration* section is the user-facing copy of this list):

``ATLASSIAN_ORG_ID``               org id, or a comma-separated list; unset = embedded demo org
``ATLASSIAN_API_KEY``              org API key (Bearer); ``ATLASSIAN_API_KEY__<ORG_ID>`` overrides per org
``ATLASSIAN_API_BASE_URL``         API root, default ``https://api.atlassian.com/admin``
``SEATWATCH_ACTIVITY_LAG_HOURS``   how far behind last-active data may be, default 24
``SEATWATCH_DATA_DIR``             folder of the two DuckDB files, default ``./data``
``SEATWATCH_LAST_ACTIVE_STRATEGY`` ``auto`` (default), ``bulk`` or ``per_user``
``SEATWATCH_WAIT_TIMEOUT_SECONDS`` how long a run waits for another live run of the same data folder,
                                   default 1800; 0 refuses at once
``SEATWATCH_RATE_LIMIT_MAX_WAIT_SECONDS`` how long a run may wait in total for the API's rate windows,
                                   default 900
``SEATWATCH_PUBLISH_DESTINATION``  a dlt destination name (e.g. ``postgres``): after each successful run the
                                   published marts are also loaded there (docs/team-setup.md); unset = none.
                                   Its credentials stay in dlt's own configuration
                                   (``DESTINATION__<NAME>__CREDENTIALS``): Seatwatch never reads them
``SEATWATCH_PUBLISH_DATASET``      the dataset (schema) the marts are published to, default ``seatwatch``
``SEATWATCH_DUCKDB_MEMORY_LIMIT``  DuckDB's ``memory_limit`` for dbt's build (e.g. ``1GB``, or ``80%`` of
                                   the machine's memory, DuckDB's own default), default ``256MB``; beyond it
                                   DuckDB spills to ``warehouse.duckdb.tmp`` in the data folder
``SEATWATCH_RECLAIM_POLICY`` and the notice/SMTP/webhook settings: :mod:`pipeline.config.policy`
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.config.errors import ConfigurationError
from pipeline.config.hosts import is_loopback
from pipeline.config.policy import PolicySettings, parse_policy
from pipeline.config.secret import Secret

DEFAULT_API_BASE_URL = "https://api.atlassian.com/admin"
LAST_ACTIVE_STRATEGIES = ("auto", "bulk", "per_user")
# Org ids are UUIDs (letters, digits, hyphens); the id goes into URL paths, so nothing else is accepted:
# `../../v2/x` must never reach a request.
_ORG_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
# A dlt destination name (``postgres``, ``bigquery``, ``snowflake``, ...) or a dotted import path of one.
_DESTINATION = re.compile(r"[a-z][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
# The dataset becomes a schema name: lowercase letters, digits and underscores, as dlt would normalise it
# anyway (a name it would rewrite would leave readers looking for the wrong schema).
_DATASET = re.compile(r"[a-z_][a-z0-9_]{0,59}")
DEFAULT_PUBLISH_DATASET = "seatwatch"
# dbt's DuckDB gets this much memory before it spills to disk (DuckDB's own default is 80% of the machine's
# memory). A 100,000-user org builds in 128 MB at the same speed (benchmarks/README.md, "Memory"), so 256 MB
# leaves room to grow while the daily run's whole process tree stays under 1 GB. Also the profile's fallback
# when dbt runs by hand (dbt_project/profiles.yml; tests/test_settings.py checks that the two agree).
DEFAULT_DUCKDB_MEMORY_LIMIT = "256MB"
# What DuckDB's ``SET memory_limit`` accepts: a size with a unit, or a share of the machine's memory.
_MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|%)", re.IGNORECASE)


@dataclass(frozen=True)
class OrgCredentials:
    org_id: str
    api_key: Secret = field(repr=False)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration for one command or run."""

    api_base_url: str
    orgs: tuple[OrgCredentials, ...]
    activity_lag_hours: float
    data_dir: Path
    last_active_strategy: str = "auto"
    wait_timeout_seconds: float = 1800.0
    rate_limit_max_wait_seconds: float = 900.0
    # The orgs are the embedded demo org, served for this command only: nothing written to it lasts.
    is_embedded_demo: bool = False
    # The team's warehouse (a dlt destination name) the published marts are loaded into, or None.
    publish_destination: str | None = None
    publish_dataset: str = DEFAULT_PUBLISH_DATASET
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    policy: PolicySettings = field(default_factory=PolicySettings)

    @property
    def is_demo(self) -> bool:
        """No org configured: run against the embedded simulator."""
        return not self.orgs

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def published_path(self) -> Path:
        return self.data_dir / "seatwatch.duckdb"

    def with_orgs(
        self, api_base_url: str, orgs: tuple[OrgCredentials, ...], *, embedded_demo: bool = False
    ) -> Settings:
        """A copy pointed at other orgs (used when the embedded simulator stands in for the API)."""
        return replace(self, api_base_url=api_base_url, orgs=orgs, is_embedded_demo=embedded_demo)


def _parse_lag(raw: str) -> float:
    try:
        lag = float(raw)
    except ValueError:
        raise ConfigurationError(
            f"SEATWATCH_ACTIVITY_LAG_HOURS must be a number of hours (got {raw!r}); unset it to use 24."
        ) from None
    if not 0 <= lag <= 24 * 7:
        raise ConfigurationError(
            f"SEATWATCH_ACTIVITY_LAG_HOURS must be between 0 and 168 (got {raw!r}); unset it to use 24."
        )
    return lag


def _parse_orgs(env: Mapping[str, str]) -> tuple[OrgCredentials, ...]:
    raw_ids = env.get("ATLASSIAN_ORG_ID", "").strip()
    default_key = env.get("ATLASSIAN_API_KEY", "").strip()
    if not raw_ids:
        if default_key:
            raise ConfigurationError(
                "ATLASSIAN_API_KEY is set but ATLASSIAN_ORG_ID is not: set ATLASSIAN_ORG_ID to your org id "
                "(admin.atlassian.com > Settings > API keys), or unset the key to use the demo org."
            )
        return ()
    org_ids = [part.strip() for part in raw_ids.split(",")]
    if any(not org_id for org_id in org_ids):
        raise ConfigurationError(
            f"ATLASSIAN_ORG_ID has an empty entry ({raw_ids!r}): give org ids separated by single commas."
        )
    for org_id in org_ids:
        if not _ORG_ID.fullmatch(org_id):
            raise ConfigurationError(
                f"ATLASSIAN_ORG_ID {org_id[:64]!r} is not an org id (letters, digits and hyphens only): "
                "copy it from admin.atlassian.com > Settings > API keys."
            )
    if len(set(org_ids)) != len(org_ids):
        raise ConfigurationError(f"ATLASSIAN_ORG_ID lists an org twice ({raw_ids!r}): list each org once.")
    orgs = []
    for org_id in org_ids:
        key = env.get(f"ATLASSIAN_API_KEY__{org_id}", "").strip() or default_key
        if not key:
            raise ConfigurationError(
                f"No API key for org {org_id}: set ATLASSIAN_API_KEY (or ATLASSIAN_API_KEY__{org_id})."
            )
        orgs.append(OrgCredentials(org_id=org_id, api_key=Secret(key)))
    return tuple(orgs)


def _parse_base_url(raw: str) -> str:
    """The API root: https, or http to this machine only (the simulator); never with credentials in it.

    Error messages never echo the URL: it may hold a password.
    """
    try:
        url = urlsplit(raw)
        host = url.hostname or ""
        url.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError:
        raise ConfigurationError(
            "ATLASSIAN_API_BASE_URL is not a valid URL; set it to https://api.atlassian.com/admin "
            "or unset it."
        ) from None
    if url.scheme not in ("http", "https") or not host:
        raise ConfigurationError(
            "ATLASSIAN_API_BASE_URL must be an http:// or https:// URL with a host, "
            "e.g. https://api.atlassian.com/admin."
        )
    if url.username is not None or url.password is not None or "@" in url.netloc:
        raise ConfigurationError(
            "ATLASSIAN_API_BASE_URL must not contain a user name or password (user:pass@host): the API key "
            "is sent as a Bearer token. Remove the credentials from the URL."
        )
    if url.query or url.fragment:
        raise ConfigurationError(
            "ATLASSIAN_API_BASE_URL must not have a query (?...) or fragment (#...): give only the API root."
        )
    if url.scheme == "http" and not is_loopback(host):
        raise ConfigurationError(
            f"ATLASSIAN_API_BASE_URL uses http:// for {host}, which would send the API key unencrypted: use "
            "https:// (http:// is accepted only for this machine, e.g. the simulator on 127.0.0.1)."
        )
    return raw.rstrip("/")


def _parse_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ConfigurationError(
            f"{name} must be a number of seconds, 0 or more (got {raw!r}); unset it to use {default:.0f}."
        )
    return value


def _parse_publish(env: Mapping[str, str]) -> tuple[str | None, str]:
    destination = env.get("SEATWATCH_PUBLISH_DESTINATION", "").strip() or None
    if destination is not None and not _DESTINATION.fullmatch(destination):
        # Not echoed: a URL pasted here by mistake would carry its password into the terminal and logs.
        raise ConfigurationError(
            "SEATWATCH_PUBLISH_DESTINATION must be a dlt destination name such as postgres; credentials "
            "go in DESTINATION__<NAME>__CREDENTIALS (dlt's configuration), not here."
        )
    dataset = env.get("SEATWATCH_PUBLISH_DATASET", "").strip() or DEFAULT_PUBLISH_DATASET
    if not _DATASET.fullmatch(dataset):
        raise ConfigurationError(
            f"SEATWATCH_PUBLISH_DATASET must be lowercase letters, digits and underscores, at most 60 "
            f"(got {dataset[:40]!r}); unset it to use {DEFAULT_PUBLISH_DATASET}."
        )
    return destination, dataset


def _parse_memory_limit(env: Mapping[str, str]) -> str:
    raw = env.get("SEATWATCH_DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_DUCKDB_MEMORY_LIMIT
    if not _MEMORY_LIMIT.fullmatch(raw):
        raise ConfigurationError(
            f"SEATWATCH_DUCKDB_MEMORY_LIMIT must be a size such as 512MB or 2GB, or a share such as 50% "
            f"(got {raw[:40]!r}); unset it to use {DEFAULT_DUCKDB_MEMORY_LIMIT}."
        )
    return raw


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the configuration from ``env`` (default: the process environment) and validate it."""
    env = os.environ if env is None else env
    base_url = _parse_base_url(env.get("ATLASSIAN_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL)
    strategy = env.get("SEATWATCH_LAST_ACTIVE_STRATEGY", "").strip() or "auto"
    if strategy not in LAST_ACTIVE_STRATEGIES:
        raise ConfigurationError(
            f"SEATWATCH_LAST_ACTIVE_STRATEGY must be one of {', '.join(LAST_ACTIVE_STRATEGIES)} "
            f"(got {strategy!r})."
        )
    data_dir = Path(env.get("SEATWATCH_DATA_DIR", "").strip() or "data").expanduser().resolve()
    destination, dataset = _parse_publish(env)
    orgs = _parse_orgs(env)
    policy = parse_policy(env)
    if policy.sends_notices and orgs and policy.smtp is None:
        raise ConfigurationError(
            f"SEATWATCH_RECLAIM_POLICY={policy.mode} sends notices to users: set SEATWATCH_SMTP_URL and "
            "SEATWATCH_NOTICE_FROM (only the demo org writes its messages to the outbox folder instead)."
        )
    return Settings(
        api_base_url=base_url,
        orgs=orgs,
        activity_lag_hours=_parse_lag(env.get("SEATWATCH_ACTIVITY_LAG_HOURS", "").strip() or "24"),
        data_dir=data_dir,
        last_active_strategy=strategy,
        wait_timeout_seconds=_parse_seconds(env, "SEATWATCH_WAIT_TIMEOUT_SECONDS", 1800.0),
        rate_limit_max_wait_seconds=_parse_seconds(env, "SEATWATCH_RATE_LIMIT_MAX_WAIT_SECONDS", 900.0),
        publish_destination=destination,
        publish_dataset=dataset,
        duckdb_memory_limit=_parse_memory_limit(env),
        policy=policy,
    )
