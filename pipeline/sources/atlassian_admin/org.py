"""The org's own resources: the org, its directories, groups (with their product grants), workspaces, and
the audit log's action names. The groups are listed once per org (``org_groups``, not loaded itself) and
feed ``groups`` and ``group_product_grants`` as transformers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dlt

from pipeline.sources.atlassian_admin import mappers, schema
from pipeline.sources.atlassian_admin.run import OrgSession


@dataclass(frozen=True)
class OrgGroups:
    session: OrgSession
    groups: list[dict[str, Any]]


def orgs(sessions: Sequence[OrgSession]) -> Any:
    @dlt.resource(name="orgs", write_disposition="merge", primary_key="org_id", columns=schema.ORG_COLUMNS)
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
    @dlt.resource(
        name="directories",
        write_disposition="merge",
        primary_key=("org_id", "directory_id"),
        columns=schema.DIRECTORY_COLUMNS,
    )
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


@dlt.transformer(
    write_disposition="replace", primary_key=("org_id", "group_id"), columns=schema.GROUP_COLUMNS
)
def groups(org: OrgGroups) -> Iterator[list[dict[str, Any]]]:
    yield [mappers.group_row(item, org.session.org_id) for item in org.groups]


@dlt.transformer(
    write_disposition="replace",
    primary_key=("org_id", "group_id", "product_key", "site_id", "role_id"),
    columns=schema.GRANT_COLUMNS,
)
def group_product_grants(org: OrgGroups) -> Iterator[dict[str, Any]]:
    api, org_id = org.session.api, org.session.org_id
    for group in org.groups:
        assignments = api.get_group_role_assignments(org_id, group.get("directoryId") or "-", group["id"])
        yield from mappers.grant_rows(org_id, group["id"], assignments)


def workspaces(sessions: Sequence[OrgSession]) -> Any:
    @dlt.resource(
        name="workspaces",
        write_disposition="replace",
        primary_key=("org_id", "workspace_id"),
        columns=schema.WORKSPACE_COLUMNS,
    )
    def rows() -> Iterator[dict[str, Any]]:
        for session in sessions:
            for item in session.api.search_workspaces(session.org_id):
                yield mappers.workspace_row(item, session.org_id)

    return rows


def event_actions(sessions: Sequence[OrgSession]) -> Any:
    @dlt.resource(
        name="event_actions",
        write_disposition="merge",
        primary_key=("org_id", "action"),
        columns=schema.EVENT_ACTION_COLUMNS,
    )
    def rows() -> Iterator[dict[str, Any]]:
        for session in sessions:
            for item in session.api.list_event_actions(session.org_id):
                yield mappers.event_action_row(item, session.org_id)

    return rows
