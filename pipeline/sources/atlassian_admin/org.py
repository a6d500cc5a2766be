"""The org's own resources: the org, its directories, groups (with their product grants), workspaces, and
the audit log's action names. The groups and their role assignments are read once per org
(:class:`GroupGrants`, listed by ``org_groups``, not loaded itself) and feed ``groups`` and
``group_product_grants`` as transformers, and the choice of whose role assignments ``user_role_assignments``
reads (:mod:`.roles`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
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
    assignments: dict[str, list[dict[str, Any]]]  # group id → its role assignments, as the API sent them

    def resources_of(self, group_ids: Iterable[str]) -> set[str]:
        """The resource ids these groups hold a role on (unknown groups hold none)."""
        return {
            item["resourceId"]
            for group_id in group_ids
            for item in self.assignments.get(group_id, ())
            if item.get("resourceId")
        }


class GroupGrants:
    """Each org's groups and their role assignments, read once per run (one call per group) and shared:
    ``group_product_grants`` loads them, ``user_role_assignments`` compares them with the users' counts."""

    def __init__(self) -> None:
        self._by_org: dict[str, OrgGroups] = {}

    def of(self, session: OrgSession) -> OrgGroups:
        cached = self._by_org.get(session.org_id)
        if cached is None:
            api, org_id = session.api, session.org_id
            listed = list(api.iter_groups(org_id))
            assignments = {
                group["id"]: api.get_group_role_assignments(
                    org_id, group.get("directoryId") or "-", group["id"]
                )
                for group in listed
            }
            cached = self._by_org[org_id] = OrgGroups(session, listed, assignments)
        return cached


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


def org_groups(sessions: Sequence[OrgSession], group_grants: GroupGrants) -> Any:
    @dlt.resource(name="org_groups", selected=False)
    def listing() -> Iterator[OrgGroups]:
        for session in sessions:
            yield group_grants.of(session)

    return listing


@dlt.transformer(**schema.hints("groups"))
def groups(org: OrgGroups) -> Iterator[list[dict[str, Any]]]:
    yield [mappers.group_row(item, org.session.org_id) for item in org.groups]


@dlt.transformer(**schema.hints("group_product_grants"))
def group_product_grants(org: OrgGroups) -> Iterator[dict[str, Any]]:
    for group in org.groups:
        yield from mappers.grant_rows(org.session.org_id, group["id"], org.assignments[group["id"]])


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
