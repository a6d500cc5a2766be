"""Resources: the Admin API a run reads, dlt, and dbt.

The API's settings come from a resource, not from ``load_settings()`` inside the assets, so that the
embedded demo org can stand in for a real org: a run launched from the UI resolves the settings when it
starts and, with no credentials set, serves the demo org for that run. ``seatwatch run`` has already
started the demo org (and said where it is), so it hands those settings to the runs it executes with
:func:`api_override`.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dlt import DagsterDltResource
from packaging import version

from pipeline.config.settings import Settings, load_settings
from pipeline.extract.demo import api_settings

_override: ContextVar[Settings | None] = ContextVar("seatwatch_api_override", default=None)


@contextmanager
def api_override(settings: Settings) -> Iterator[None]:
    """Runs executed in process inside this block read the API through ``settings``, as given."""
    token = _override.set(settings)
    try:
        yield
    finally:
        _override.reset(token)


class AtlassianApiResource(dg.ConfigurableResource):
    """The settings of one run, pointed at the configured org(s) or at the embedded demo org.

    No field holds configuration: Dagster stores resource config with the run, and the API key must never
    reach the event log.
    """

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Settings]:
        overridden = _override.get()
        if overridden is not None:
            yield overridden
            return
        configured = load_settings()
        with api_settings(configured, quiet=True) as settings:
            if configured.is_demo and context.log:
                context.log.info(f"No ATLASSIAN_ORG_ID set: the embedded demo org at {settings.api_base_url}")
            yield settings


class SeatwatchDbtCliResource(DbtCliResource):
    @cached_property
    def _cli_version(self) -> version.Version:
        # dagster-dbt runs `dbt --version` before every invocation to tell dbt Fusion from dbt-core, and that
        # command also asks pypi.org for the newest release: 2-4 s per step, more offline. dbt-core is
        # pinned in pyproject.toml, so the installed package answers the same question for free.
        return version.parse(importlib.metadata.version("dbt-core"))


def dbt_executable() -> str:
    # The venv's dbt, whether or not the venv is activated (`uv run` and `dagster dev` differ on PATH).
    return str(Path(sys.executable).with_name("dbt"))


def build_resources(dbt_project: DbtProject) -> dict[str, object]:
    return {
        "atlassian": AtlassianApiResource(),
        "dlt": DagsterDltResource(),
        "dbt": SeatwatchDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
