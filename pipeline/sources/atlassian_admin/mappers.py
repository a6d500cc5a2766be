"""Turn Admin API JSON into warehouse rows.

Pure functions, no I/O. Known fields get their contract names; every other field the API sends is passed
through untouched so that new API fields land in the warehouse (dlt's naming convention turns camelCase into
snake_case and adds the column). Missing optional fields become nulls, never errors, and enum values are
kept as text whatever they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# Fields that are either re-homed into their own table or are noise for analysts (avatar URLs, links), and
# `counts`, which only decides whose role assignments the extract reads (.roles).
_USER_DROP = {"productAccess", "groups", "counts", "links", "picture", "avatar"}
_USER_RENAMES = {
    "accountId": "account_id",
    "mfaEnabled": "is_mfa_enabled",
    "addedToOrg": "added_to_org_at",
    "forDeletion": "is_for_deletion",
    "deactivatedOn": "deactivated_on",
}


@dataclass(frozen=True)
class SnapshotContext:
    """Where a row comes from: which org, which run, and the API's own time of the users snapshot."""

    org_id: str
    run_id: str
    extracted_at: datetime

    @property
    def snapshot_date(self) -> date:
        return self.extracted_at.date()


def site_id_from_resource(resource_id: str | None) -> str | None:
    """The cloud id of a product instance.

    ARIs look like ``ari:cloud:jira-software::site/<cloudId>``; the workspace id format is unconfirmed (bare
    cloud id or ARI), so take whatever follows the last ``/`` and accept a bare id as is.
    """
    if not resource_id:
        return None
    return resource_id.rsplit("/", 1)[-1]


def product_key_from_resource(resource_id: str | None) -> str | None:
    """``ari:cloud:<product>::site/<id>`` → ``<product>``; None when the id is not such an ARI."""
    if not resource_id or not resource_id.startswith("ari:cloud:"):
        return None
    product = resource_id[len("ari:cloud:") :].split(":", 1)[0]
    return product or None


def user_row(item: Mapping[str, Any], ctx: SnapshotContext) -> dict[str, Any]:
    """A v2 ``MultiDirectoryUser`` as a ``users`` / ``user_snapshots`` row."""
    row = {key: value for key, value in item.items() if key not in _USER_DROP and key not in _USER_RENAMES}
    for api_name, column in _USER_RENAMES.items():
        if api_name in item:
            row[column] = item[api_name]
    row.update(
        org_id=ctx.org_id,
        account_id=item["accountId"],
        extracted_at=ctx.extracted_at,
        snapshot_date=ctx.snapshot_date,
        run_id=ctx.run_id,
    )
    return row


def _date_part(value: str | None) -> str | None:
    return value[:10] if value else None


def last_active_rows_from_product_access(
    account_id: str, product_access: Iterable[Mapping[str, Any]], ctx: SnapshotContext
) -> Iterator[dict[str, Any]]:
    """Last-active observations from either API shape.

    v1 ``last-active-dates`` items carry ``last_active`` (a date) and ``last_active_timestamp``; v2 search
    ``productAccess`` items carry ``lastActiveTimestamp`` only. Both become the same row, so the ``bulk`` and
    ``per_user`` strategies load identical data. Products never used yield nothing.
    """
    for product in product_access:
        resource_id = product.get("id")
        timestamp = product.get("last_active_timestamp") or product.get("lastActiveTimestamp")
        last_active_date = product.get("last_active") or _date_part(timestamp)
        if not last_active_date:
            continue
        yield {
            "org_id": ctx.org_id,
            "account_id": account_id,
            "product_key": product.get("key") or product_key_from_resource(resource_id),
            "site_id": site_id_from_resource(resource_id),
            "resource_id": resource_id,
            "last_active_date": last_active_date,
            "last_active_at": timestamp,
            "observed_at": ctx.extracted_at,
            "snapshot_date": ctx.snapshot_date,
        }


def access_rows_from_product_access(
    account_id: str, product_access: Iterable[Mapping[str, Any]], ctx: SnapshotContext
) -> Iterator[dict[str, Any]]:
    """Product instances a user can access, as listed by v2 search ``productAccess``."""
    for product in product_access:
        resource_id = product.get("id")
        yield {
            "org_id": ctx.org_id,
            "snapshot_date": ctx.snapshot_date,
            "account_id": account_id,
            "product_key": product.get("key") or product_key_from_resource(resource_id),
            "site_id": site_id_from_resource(resource_id),
            "resource_id": resource_id,
        }


def group_row(item: Mapping[str, Any], org_id: str) -> dict[str, Any]:
    counts = item.get("counts") or {}
    row = {
        key: value
        for key, value in item.items()
        if key not in {"id", "links", "counts", "externalSynced", "managementAccess"}
    }
    row.update(
        org_id=org_id,
        group_id=item["id"],
        is_external_synced=item.get("externalSynced"),
        user_count=counts.get("users"),
        resource_count=counts.get("resources"),
    )
    return row


def grant_rows(
    org_id: str, group_id: str, assignments: Iterable[Mapping[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Group role assignments on product instances → one row per (group, product, site, role)."""
    for assignment in assignments:
        resource_id = assignment.get("resourceId")
        roles = [entry.get("role") for entry in assignment.get("roleAssignments") or []]
        # Older payloads list plain role ids under the deprecated `roles` key.
        roles += [role for role in assignment.get("roles") or [] if isinstance(role, str)]
        for role_id in dict.fromkeys(role for role in roles if role):
            yield {
                "org_id": org_id,
                "group_id": group_id,
                "resource_id": resource_id,
                "product_key": product_key_from_resource(resource_id) or assignment.get("resourceOwner"),
                "site_id": site_id_from_resource(resource_id),
                "role_id": role_id,
            }


def user_role_rows(
    account_id: str, assignments: Iterable[Mapping[str, Any]], ctx: SnapshotContext
) -> Iterator[dict[str, Any]]:
    """A user's role assignments → one row per (resource, role), with how the role was assigned."""
    for assignment in assignments:
        resource_id = assignment.get("resourceId")
        methods = {
            entry.get("role"): entry.get("roleAssignmentMethods") or []
            for entry in assignment.get("roleAssignments") or []
        }
        # Older payloads list plain role ids under the deprecated `roles` key, without methods.
        for role in assignment.get("roles") or []:
            if isinstance(role, str):
                methods.setdefault(role, [])
        for role_id, role_methods in methods.items():
            if not resource_id or not role_id:
                continue
            yield {
                "org_id": ctx.org_id,
                "snapshot_date": ctx.snapshot_date,
                "account_id": account_id,
                "resource_id": resource_id,
                "product_key": product_key_from_resource(resource_id) or assignment.get("resourceOwner"),
                "site_id": site_id_from_resource(resource_id),
                "role_id": role_id,
                "assignment_methods": ", ".join(str(method) for method in role_methods) or None,
                "directory_id": assignment.get("directoryId"),
            }


def workspace_row(item: Mapping[str, Any], org_id: str) -> dict[str, Any]:
    attributes = item.get("attributes") or {}
    return {
        "org_id": org_id,
        "workspace_id": item["id"],
        "name": attributes.get("name"),
        "type_key": attributes.get("typeKey"),
        "product_key": attributes.get("type") or attributes.get("typeKey"),
        "site_id": site_id_from_resource(item["id"]),
        "host_url": attributes.get("hostUrl"),
        "status": attributes.get("status"),
        "capacity": attributes.get("capacity"),
        "usage": attributes.get("usage"),
        "created_at": attributes.get("createdAt"),
    }


def event_action_row(item: Mapping[str, Any], org_id: str) -> dict[str, Any]:
    attributes = item.get("attributes") or {}
    return {
        "org_id": org_id,
        "action": item["id"],
        "display_name": attributes.get("displayName"),
        "group_display_name": attributes.get("groupDisplayName"),
    }


def _first_of_type(objects: Iterable[Mapping[str, Any]] | None, object_type: str) -> Mapping[str, Any]:
    for obj in objects or []:
        if obj.get("type") == object_type:
            return obj
    return {}


def audit_event_row(item: Mapping[str, Any], org_id: str) -> dict[str, Any]:
    """An audit event; the subject user sits in ``context[]`` and the site in ``container[]``."""
    attributes = item.get("attributes") or {}
    actor = attributes.get("actor") or {}
    subject = _first_of_type(attributes.get("context"), "users")
    subject_attributes = subject.get("attributes") or {}
    site = _first_of_type(attributes.get("container"), "sites")
    site_attributes = site.get("attributes") or {}
    location = attributes.get("location") or {}
    message = item.get("message") or {}
    return {
        "org_id": org_id,
        "event_id": item["id"],
        "event_at": attributes.get("time"),
        "processed_at": attributes.get("processedAt"),
        "action": attributes.get("action"),
        "actor_account_id": actor.get("id"),
        "actor_name": actor.get("name"),
        "actor_email": actor.get("email"),
        "subject_account_id": subject.get("id"),
        "subject_email": subject_attributes.get("email"),
        "site_id": site.get("id"),
        "site_host": site_attributes.get("siteHostName"),
        "ip": location.get("ip"),
        "country": location.get("countryName"),
        "city": location.get("city"),
        "message": message.get("content"),
        "context": attributes.get("context"),
        "container": attributes.get("container"),
    }
