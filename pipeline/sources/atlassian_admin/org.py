"""The org's own resources: the org, its directories, groups (with their product grants), workspaces, and
the audit log's action names. The groups are listed once per org (``org_groups``, not loaded itself) and
feed ``groups`` and ``group_product_grants`` as transformers."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dlt

from pipeline.atlassian.errors import ScopedKeyError
from pipeline.sources.atlassian_admin import mappers, schema
from pipeline.sources.atlassian_admin.run import OrgSession

log = logging.getLogger("seatwatch.extract")


@dataclass(frozen=True)
class OrgGroups:
    session: OrgSession
    groups: list[dict[str, Any]]


def orgs(sessions: Sequence[OrgSession]) -> Any:
    @dlt.resource(name="orgs", **schema.hints("orgs"))
    def rows() -> Iterator[dict[str, Any]]:
        for session in sessions:
            org = session.api.get_org(session.org_id)
            attributes = org.get("attributes") or {}
            yield {
                "org_id": session.org_id,
                "name": attributes.get("name"),
                "extracted_at": session.api.server_now(),
            }

    return rows


def directories(sessions: Sequence[OrgSession]) -> Any:
    @dlt.resource(name="directories", **schema.hints("directories"))
    def rows() -> Iterator[dict[str, Any]]:
        for session in sessions:
            for item in session.api.list_directories(session.org_id):
                yield {
                    "org_id": session.org_id,
                    "directory_id": item.get("directoryId"),
                    "name": item.get("name"),
                }

    return rows


def org_groups(sessions: Sequence[OrgSession]) -> Any:
    @dlt.resource(name="org_groups", selected=False)
    def listing() -> Iterator[OrgGroups]:
        for session in sessions:
            yield OrgGroups(session, list(session.api.iter_groups(session.org_id)))

    return listing


@dlt.transformer(**schema.hints("groups"))
def groups(org: OrgGroups) -> Iterator[list[dict[str, Any]]]:
    yield [mappers.group_row(item, org.session.org_id) for item in org.groups]


@dlt.transformer(**schema.hints("group_product_grants"))
def group_product_grants(org: OrgGroups) -> Iterator[dict[str, Any]]:
    api, org_id = org.session.api, org.session.org_id
    for group in org.groups:
        assignments = api.get_group_role_assignments(org_id, group.get("directoryId") or "-", group["id"])
        yield from mappers.grant_rows(org_id, group["id"], assignments)


def workspaces(sessions: Sequence[OrgSession]) -> Any:
    @dlt.resource(name="workspaces", **schema.hints("workspaces"))
    def rows() -> Iterator[dict[str, Any]]:
        for session in sessions:
            for item in session.api.search_workspaces(session.org_id):
                yield mappers.workspace_row(item, session.org_id)

    return rows


def event_actions(sessions: Sequence[OrgSession]) -> Any:
    @dlt.resource(name="event_actions", **schema.hints("event_actions"))
    def rows() -> Iterator[dict[str, Any]]:
        for session in sessions:
            try:
                items = session.api.list_event_actions(session.org_id)
            except ScopedKeyError as error:
                # The snapshot still loads with a scoped key; the audit-event load says what to do.
                log.warning("org %s: no event action names: %s", session.org_id, error)
                continue
            for item in items:
                yield mappers.event_action_row(item, session.org_id)

    return rows
