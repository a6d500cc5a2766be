"""dlt source for the Atlassian Admin (organizations) API, in the shape of dlt's verified sources.

One resource per raw table (the raw schema is :mod:`.schema`); every row carries ``org_id``; several orgs
load in one run, each through its own client (one API key per org). Listings that several tables need are
read once per org by a resource that is not loaded itself, and the tables hang off it as transformers:

* ``user_pages`` → ``users`` (and ``user_snapshots``), ``user_product_last_active``,
  ``user_product_access``, ``group_memberships`` (:mod:`.users`), ``user_role_assignments`` (:mod:`.roles`,
  the direct grants of the users their groups do not explain);
* ``org_groups`` → ``groups``, ``group_product_grants`` (:mod:`.org`; the groups' role assignments are read
  once per org and shared with ``user_role_assignments``);
* ``audit_events`` reads the audit log on the API's clock (:mod:`.events`);
* ``extract_runs`` records the run and ``user_read_failures`` the accounts the per-user fan-outs could not
  read (:mod:`.run`); both hold what the others extracted, so :func:`pipeline.extract.run.run_extract`
  extracts them last, in a second package of the same run (``LOADED_AFTER_DATA``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dlt

from pipeline.config.shared import ProgressFn, no_progress
from pipeline.sources.atlassian_admin import events, org, roles, users
from pipeline.sources.atlassian_admin.events import AUDIT_RETENTION_DAYS, EVENTS_OVERLAP, events_start
from pipeline.sources.atlassian_admin.run import (
    OrgSession,
    ReadFailures,
    RunInfo,
    RunTally,
    extract_runs,
    user_read_failures,
)

SOURCE_NAME = "atlassian_admin"
RUN_RECORD_RESOURCE = "extract_runs"
# Resources that hold what the data resources extracted: extracted after them, in a second package.
LOADED_AFTER_DATA = ("user_read_failures", RUN_RECORD_RESOURCE)

__all__ = [
    "AUDIT_RETENTION_DAYS",
    "EVENTS_OVERLAP",
    "LOADED_AFTER_DATA",
    "RUN_RECORD_RESOURCE",
    "SOURCE_NAME",
    "OrgSession",
    "RunInfo",
    "atlassian_admin",
    "events_start",
]


@dlt.source(name=SOURCE_NAME, max_table_nesting=0)
def atlassian_admin(sessions: Sequence[OrgSession], run: RunInfo, progress: ProgressFn | None = None) -> Any:
    """All raw tables for the given orgs. ``progress(step, counters)`` reports long steps."""
    report = progress or no_progress
    tally = RunTally()
    failures = ReadFailures()
    user_pages = users.user_pages(sessions, run, report, tally)
    group_grants = org.GroupGrants()
    org_groups = org.org_groups(sessions, group_grants)
    return (
        org.orgs(sessions),
        org.directories(sessions),
        user_pages | users.users,
        user_pages | users.user_product_last_active(report, tally, failures),
        user_pages | users.user_product_access,
        org_groups | org.groups,
        org_groups | org.group_product_grants,
        user_pages | users.group_memberships,
        user_pages | roles.user_role_assignments(group_grants, failures),
        org.workspaces(sessions),
        org.event_actions(sessions),
        events.audit_events(sessions, report, tally),
        user_read_failures(failures),
        extract_runs(sessions, run, tally),
    )
