"""Error bodies exactly as the Admin API sends them.

Two families matter to a client (the ``ProxyError`` and ``ApplicationError`` schemas of Atlassian's
OpenAPI file, vendored in ``tests/fixtures/atlassian-spec/``):

* ``ProxyError`` from the gateway, ``{"code": 401, "message": "Unauthorized"}`` with a *number* code, for
  401 and 429;
* ``ApplicationErrors`` from the service, ``{"errors": [{"id", "status", "code", "title", "detail"}]}`` with
  ``status`` as a *string*. v1 endpoints and workspaces use ``ADMIN-*`` codes, the v2 directory endpoints the
  ``ADMIN-UAM-*`` family.

Handlers raise :class:`ApiError`; the app turns it into a response. The occurrence ``id`` is derived from the
error and the request, not random, so the same request gets byte-identical bodies on every run.
"""

from __future__ import annotations

import uuid
from typing import Any

# Any fixed namespace works: it only makes occurrence ids deterministic.
_OCCURRENCE_NAMESPACE = uuid.UUID("6f1d8f3e-2c4b-4d1e-9a57-5e0c1b7d2a10")


class ApiError(Exception):
    """An error response: HTTP status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def proxy_error(status: int, message: str) -> ApiError:
    return ApiError(status, {"code": status, "message": message})


def application_error(status: int, code: str, title: str, detail: str, occurrence: str = "") -> ApiError:
    """``occurrence`` (usually the request path and query) seeds the error's id."""
    error_id = str(uuid.uuid5(_OCCURRENCE_NAMESPACE, f"{code}|{occurrence}|{detail}"))
    return ApiError(
        status,
        {"errors": [{"id": error_id, "status": str(status), "code": code, "title": title, "detail": detail}]},
    )


def unauthorized() -> ApiError:
    return proxy_error(401, "Unauthorized")


def insufficient_scope(occurrence: str) -> ApiError:
    """How the events endpoints refuse a key created with scopes ("OAuth 2.0 scopes required: Not supported
    (use API Key without scopes)"); the code is the one a third party measured with a scoped key."""
    return application_error(401, "ADMIN-401-2", "Unauthorized", "INSUFFICIENT_SCOPE", occurrence)


def unknown_route(status: int, occurrence: str) -> ApiError:
    """Unknown paths and methods get the API's JSON error body, never a text page."""
    if status == 405:
        return application_error(
            405, "ADMIN-405-1", "Method not allowed", "Method not supported.", occurrence
        )
    return application_error(404, "ADMIN-404-1", "Resource not found", "No such resource.", occurrence)


def rate_limited() -> ApiError:
    return proxy_error(429, "Rate limit exceeded")


class Codes:
    """The code set of one family: v1 (``ADMIN-*``) or v2 directories (``ADMIN-UAM-*``)."""

    def __init__(self, *, v2: bool, occurrence: str) -> None:
        self.v2 = v2
        self.occurrence = occurrence

    def _error(self, status: int, v1_code: str, v2_code: str, title: str, detail: str) -> ApiError:
        return application_error(status, v2_code if self.v2 else v1_code, title, detail, self.occurrence)

    def org_not_found(self, org_id: str) -> ApiError:
        return self._error(
            404,
            "ADMIN-404-2",
            "ADMIN-UAM-404-2",
            "Organization not found",
            f"The organization {org_id} does not exist or your API key cannot access it.",
        )

    def user_not_found(self, account_id: str) -> ApiError:
        return self._error(
            404,
            "ADMIN-404-8",
            "ADMIN-UAM-404-1",
            "User not found",
            f"The user {account_id} was not found in this organization.",
        )

    def not_found(self, what: str) -> ApiError:
        return self._error(
            404, "ADMIN-404-1", "ADMIN-UAM-404-1", "Resource not found", f"{what} was not found."
        )

    def group_not_found(self, group_id: str) -> ApiError:
        return self._error(
            404, "ADMIN-404-10", "ADMIN-UAM-404-3", "Group not found", f"The group {group_id} was not found."
        )

    def invalid_cursor(self) -> ApiError:
        return self._error(
            400,
            "ADMIN-400-1",
            "ADMIN-UAM-400-1",
            "Invalid page cursor",
            "The cursor is not valid. Start again without a cursor.",
        )

    def bad_request(self, detail: str) -> ApiError:
        return self._error(400, "ADMIN-400-24", "ADMIN-UAM-400-1", "Invalid request", detail)

    def forbidden(self, detail: str) -> ApiError:
        """A change the API does not allow (a group synced from an identity provider, a read-only key)."""
        return self._error(403, "ADMIN-403-5", "ADMIN-UAM-403-1", "Forbidden", detail)

    def license_limit(self, detail: str) -> ApiError:
        """ "You can't add a user to a group if you've exceeded your user limit for an app that the group
        grants access to": the ``Product License Limit Exceeded`` code of each family."""
        return self._error(409, "ADMIN-409-3", "ADMIN-UAM-409-3", "Product License Limit Exceeded", detail)


def invalid_time(detail: str, occurrence: str) -> ApiError:
    return application_error(400, "ADMIN-400-3", "Invalid search time date", detail, occurrence)


def event_not_found(event_id: str, occurrence: str) -> ApiError:
    return application_error(
        404, "ADMIN-404-4", "Event not found", f"The event {event_id} was not found.", occurrence
    )


def internal_error(occurrence: str) -> ApiError:
    return application_error(
        500, "ADMIN-500-1", "Internal server error", "An unexpected error occurred. Try again.", occurrence
    )
