"""Resources: the settings every asset and check reads, the terminal progress of a run, and dbt.

``settings`` is the one way configuration reaches an asset. A run launched from the UI or the schedule
resolves it when the run starts (:class:`SettingsResource`), and with no credentials set serves the embedded
demo org for that run. ``seatwatch run`` has already resolved the settings (and started the demo org, and
said where it is), so it passes them as they are with ``execute_in_process(resources={"settings": …})``,
together with its terminal progress reporter as ``progress``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from pipeline.config.settings import Settings, load_settings
from pipeline.config.shared import no_progress
from pipeline.extract.demo import api_settings
from pipeline.runtime import patches
from pipeline.runtime.children import dbt_executable

SETTINGS = "settings"
PROGRESS = "progress"


class SettingsResource(dg.ConfigurableResource):
    """The settings of one run, pointed at the configured org(s) or at the embedded demo org.

    No field holds configuration: Dagster stores resource config with the run, and the API key must never
    reach the event log. The environment is read once, when the run starts.
    """

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[Settings]:
        configured = load_settings()
        with api_settings(configured, quiet=True) as settings:
            if configured.is_demo and context.log:
                context.log.info(f"No ATLASSIAN_ORG_ID set: the embedded demo org at {settings.api_base_url}")
            yield settings


@patches.overrides(patches.DBT_CLI_VERSION, patches.DBT_CORE_ADAPTER)
class SeatwatchDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two costs of every invocation (private methods, checked as patches)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # dagster-dbt runs `dbt --version` before every invocation to tell dbt Fusion from dbt-core, and that
        # command also asks pypi.org for the newest release, which waits on the network offline. dbt-core is
        # pinned in pyproject.toml, so the installed package answers the same question for free.
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        # dagster-dbt opens a dbt adapter in this process before every invocation (profile, project and every
        # base macro loaded, seconds of CPU: benchmarks/README.md) only to serve fetch_row_counts() and
        # fetch_column_metadata(), which Seatwatch does not call; dbt itself runs in its own process. An
        # invocation without an adapter is what dagster-dbt does for dbt Fusion.
        return None


def build_resources(dbt_project: DbtProject) -> dict[str, object]:
    return {
        SETTINGS: SettingsResource(),
        PROGRESS: no_progress,
        "dbt": SeatwatchDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
