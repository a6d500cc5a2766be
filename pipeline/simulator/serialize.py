"""World objects → the exact JSON each Admin API endpoint sends.

Field names, casing and formats follow Atlassian's Admin API reference (the README's *Fidelity* section; v1
users, last-active-dates and events are snake_case at the top; v2 and event attributes camelCase). Dicts are
built in a fixed key order and lists in a fixed item order, so the same world gives byte-identical bodies.

``base`` is the API root the client called (``http://127.0.0.1:8765/admin``), so links point back at the
simulator; links the real API sends to *other* Atlassian services keep their real host.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from pipeline.simulator.model import (
    PRODUCT_NAMES,
    ROLE_ADMIN,
    ROLE_USER,
    V2_PRODUCT_KEYS,
    AuditEvent,
    Directory,
    EventAction,
    Group,
    Org,
    SeatKey,
    User,
    Workspace,
)

PROFILE_URL = "https://api.atlassian.com/users/{account_id}/manage/profile"
AVATAR_URL = "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/{account_id}/128"

# ---- formats ------------------------------------------------------------------------------------------


def iso_seconds(moment: datetime) -> str:
    """``2023-05-04T09:12:00Z``: v2 timestamps and ``last_active_timestamp``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(moment: datetime) -> str:
    """``2024-10-03T10:44:26.457Z``: event times and v1 ``last_active``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def http_date(moment: datetime) -> str:
    """RFC 7231 ``Date`` header value."""
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


def api_product_key(product_key: str, keys: str = "v1") -> str:
    """How an endpoint names a product: the world's v1 key, or its v2 name when ``keys`` is ``"v2"``."""
    return V2_PRODUCT_KEYS.get(product_key, product_key) if keys == "v2" else product_key


def ari(product_key: str, cloud_id: str, keys: str = "v1", role: str | None = None) -> str:
    """Product-instance ARI (same form as :meth:`Site.ari`, usable without the Site object).

    With v2 keys a Jira admin role sits on the ``jira-admin`` resource, as in the role-assignment ids of a
    public Atlassian ticket (ID-8887): ``ari:cloud:jira-admin::site/<cloudId>``.
    """
    name = api_product_key(product_key, keys)
    if keys == "v2" and role == ROLE_ADMIN and name == "jira":
        name = "jira-admin"
    return f"ari:cloud:{name}::site/{cloud_id}"


def _maybe(moment: datetime | None, fmt: Any = iso_seconds) -> str | None:
    return None if moment is None else fmt(moment)


# ---- orgs ---------------------------------------------------------------------------------------------


def org_model(org: Org, base: str) -> dict[str, Any]:
    self_url = f"{base}/v1/orgs/{org.id}"
    return {
        "id": org.id,
        "type": "orgs",
        "attributes": {"name": org.name},
        "relationships": {
            "domains": {"links": {"related": f"{self_url}/domains"}},
            "users": {"links": {"related": f"{self_url}/users"}},
        },
        "links": {"self": self_url},
    }


def domain_model(org: Org, base: str) -> dict[str, Any]:
    """The org's verified email domain (``GET /v1/orgs/{orgId}/domains`` item)."""
    domain_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{org.id}/{org.domain}"))
    return {
        "id": domain_id,
        "type": "domains",
        "attributes": {"name": org.domain, "claim": {"type": "dns", "status": "VERIFIED"}},
        "links": {"self": f"{base}/v1/orgs/{org.id}/domains/{domain_id}"},
    }


def directory_model(directory: Directory) -> dict[str, Any]:
    return {"directoryId": directory.id, "name": directory.name, "icon": None}


# ---- users --------------------------------------------------------------------------------------------


def is_billable(user: User, seats: list[SeatKey]) -> bool:
    """Guard bills active managed humans who can use at least one product (assumption, see README)."""
    return user.account_type == "atlassian" and user.status == "active" and bool(seats)


def v1_user(
    user: User, seats: list[SeatKey], visible: dict[SeatKey, datetime], hosts: dict[str, str]
) -> dict:
    """``GET /v1/orgs/{orgId}/users`` item: every accessible product, ``last_active`` when seen."""
    products = []
    for seat in seats:
        product_key, cloud_id = seat
        product: dict[str, Any] = {
            "key": product_key,
            "name": PRODUCT_NAMES.get(product_key, product_key),
            "url": hosts[cloud_id].removeprefix("https://"),
        }
        if seat in visible:
            product["last_active"] = iso_millis(visible[seat])
        products.append(product)
    item: dict[str, Any] = {
        "account_id": user.account_id,
        "account_type": user.account_type,
        "account_status": user.account_status,
        "name": user.name,
        "picture": AVATAR_URL.format(account_id=user.account_id),
    }
    if user.email is not None:
        item["email"] = user.email
    item["access_billable"] = is_billable(user, seats)
    if visible:
        item["last_active"] = iso_millis(max(visible.values()))
    item["product_access"] = products
    item["links"] = {"self": PROFILE_URL.format(account_id=user.account_id)}
    return item


def v2_user_fields(user: User) -> dict[str, Any]:
    """The ``MultiDirectoryUser`` fields every listing and the details endpoint share."""
    return {
        "accountId": user.account_id,
        "accountType": user.account_type,
        "status": user.status,
        "accountStatus": user.account_status,
        "membershipStatus": user.membership_status,
        "addedToOrg": iso_seconds(user.added_to_org),
        "name": user.name,
        "nickname": user.nickname,
        "email": user.email,
        "emailVerified": user.email_verified,
        "claimStatus": user.claim_status,
        "picture": AVATAR_URL.format(account_id=user.account_id),
        "avatar": AVATAR_URL.format(account_id=user.account_id),
        "managementSource": user.management_source,
        "mfaEnabled": user.mfa_enabled,
        "jobTitle": user.job_title,
        "department": user.department,
        # `organization` and `location` (optional in the documented model) are left out: the world has no
        # such data, and a column that is always null only makes loaders warn.
        "timeZone": user.time_zone,
        "deactivatedOn": _maybe(user.deactivated_on),
        "forDeletion": user.for_deletion,
    }


def product_access_items(
    seats: list[SeatKey],
    visible: dict[SeatKey, datetime],
    keys: str = "v1",
    used_only: bool = False,
    renames: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """v2 ``productAccess``: every accessible instance (or, ``used_only``, only those with visible use);
    ``lastActiveTimestamp`` only once visibly active."""
    items = []
    for seat in seats:
        if used_only and seat not in visible:
            continue
        world_key, cloud_id = seat
        product_key = (renames or {}).get(world_key, world_key)
        item = {"key": api_product_key(product_key, keys), "id": ari(product_key, cloud_id, keys)}
        if seat in visible:
            item["lastActiveTimestamp"] = iso_seconds(visible[seat])
        items.append(item)
    return items


def group_ref(group: Group) -> dict[str, Any]:
    return {"id": group.id, "name": group.name, "description": group.description}


def last_active_dates(
    user: User, visible: list[tuple[str, str, datetime]], renames: dict[str, str] | None = None
) -> dict[str, Any]:
    """``last-active-dates`` body: one entry per product instance with visible activity, else empty."""
    renames = renames or {}
    visible = [(renames.get(key, key), cloud_id, moment) for key, cloud_id, moment in visible]
    return {
        "data": {
            "product_access": [
                {
                    "id": ari(product_key, cloud_id),
                    "key": product_key,
                    "last_active": moment.date().isoformat(),
                    "last_active_timestamp": iso_seconds(moment),
                }
                for product_key, cloud_id, moment in visible
            ],
            "added_to_org": user.added_to_org.date().isoformat(),
            "added_to_org_timestamp": iso_seconds(user.added_to_org),
        },
        "links": {},
    }


# ---- groups and role assignments ----------------------------------------------------------------------


def group_model(
    group: Group, user_count: int, resource_count: int, self_url: str, counts: bool = True
) -> dict[str, Any]:
    """A group; ``counts`` only when the request asked for them (the ``expand`` array is "the only way to
    request counts.resources or counts.users", v2 reference)."""
    editable = not group.is_external_synced
    model = {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "directoryId": group.directory_id,
        "managementAccess": {"deletable": editable, "modifiable": editable, "readable": True},
        "externalSynced": group.is_external_synced,
        "managedBy": group.managed_by,
        "counts": {"users": user_count, "resources": resource_count},
        "links": {"self": self_url},
    }
    if not counts:
        del model["counts"]
    return model


def role_assignments(grants: dict[str, dict[str, list[str]]]) -> list[dict[str, Any]]:
    """Items per resource ARI, from ``{ari: {role: [methods]}}``; resources and roles sorted."""
    items = []
    for resource_id in sorted(grants):
        product_key = resource_id.removeprefix("ari:cloud:").split(":", 1)[0]
        items.append(
            {
                "resourceId": resource_id,
                "resourceOwner": product_key,
                "roleAssignments": [
                    {"role": role, "roleAssignmentMethods": methods}
                    for role, methods in sorted(grants[resource_id].items())
                ],
            }
        )
    return items


def group_grants(group: Group, keys: str = "v1") -> dict[str, dict[str, list[str]]]:
    grants: dict[str, dict[str, list[str]]] = {}
    for product_key, cloud_id, role in group.grants:
        grants.setdefault(ari(product_key, cloud_id, keys, role), {})[role] = ["direct"]
    return grants


def user_grants(user: User, groups: list[Group], keys: str = "v1") -> dict[str, dict[str, list[str]]]:
    """A user's roles per resource: ``direct`` for access without a group, ``group_direct`` through one."""
    grants: dict[str, dict[str, list[str]]] = {}
    for product_key, cloud_id in sorted(user.direct_access):
        grants.setdefault(ari(product_key, cloud_id, keys), {})[ROLE_USER] = ["direct"]
    for group in groups:
        for product_key, cloud_id, role in group.grants:
            methods = grants.setdefault(ari(product_key, cloud_id, keys, role), {}).setdefault(role, [])
            if "group_direct" not in methods:
                methods.append("group_direct")
    return grants


# ---- workspaces ---------------------------------------------------------------------------------------


def workspace_model(
    workspace: Workspace, usage: int, base: str, org_id: str, keys: str = "v1"
) -> dict[str, Any]:
    workspace_id = ari(workspace.product_key, workspace.site.cloud_id, keys)
    product = api_product_key(workspace.product_key, keys)
    return {
        "id": workspace_id,
        "type": "workspaces",
        "attributes": {
            "name": workspace.site.name,
            "typeKey": product,
            "type": product,
            "owner": None,
            "status": "online",
            "statusDetails": [],
            "icons": {},
            "avatars": {},
            "labels": [],
            "sandbox": {"type": "NONE"},
            "usage": usage,
            "capacity": workspace.capacity,
            "createdAt": iso_seconds(workspace.created_at),
            "createdBy": None,
            "updatedAt": None,
            "hostUrl": workspace.site.host_url,
            "realm": "us",
            "regions": ["us-east-1"],
        },
        "links": {"self": f"{base}/v2/orgs/{org_id}/workspaces/{quote(workspace_id, safe='')}"},
        "relationships": {},
    }


# ---- audit log ----------------------------------------------------------------------------------------


def event_model(event: AuditEvent, account_types: dict[str, str], self_url: str, *, stream: bool) -> dict:
    """An ``EventModel``; the events-stream adds ``processedAt``."""
    actor: dict[str, Any] = {"id": event.actor_id, "name": event.actor_name}
    if event.actor_email is not None:
        actor["email"] = event.actor_email
    actor["links"] = {"self": PROFILE_URL.format(account_id=event.actor_id)}
    context = []
    if event.subject_account_id is not None:
        subject = {
            "email": event.subject_email,
            "name": event.subject_name,
            "accountType": account_types.get(event.subject_account_id, "atlassian"),
        }
        context.append(
            {
                "id": event.subject_account_id,
                "type": "users",
                "attributes": {key: value for key, value in subject.items() if value is not None},
                "links": {"self": PROFILE_URL.format(account_id=event.subject_account_id)},
            }
        )
    attributes: dict[str, Any] = {"time": iso_millis(event.time)}
    if stream:
        attributes["processedAt"] = iso_millis(event.processed_at)
    attributes.update(action=event.action, actor=actor, context=context)
    if event.cloud_id is not None:
        host = event.site_host or ""
        attributes["container"] = [
            {
                "id": event.cloud_id,
                "type": "sites",
                "attributes": {
                    "siteName": host.removeprefix("https://").split(".", 1)[0],
                    "siteHostName": host,
                },
                "links": {"alt": host},
            }
        ]
    else:
        attributes["container"] = []
    attributes["location"] = {"ip": event.ip, "countryName": event.country, "city": event.city}
    return {
        "id": event.id,
        "type": "events",
        "attributes": attributes,
        "links": {"self": self_url},
        "message": {"content": event.message, "format": "simple"},
    }


def event_action_model(action: EventAction) -> dict[str, Any]:
    return {
        "id": action.key,
        "type": "event-actions",
        "attributes": {"displayName": action.display_name, "groupDisplayName": action.group_display_name},
    }
