"""Typed errors of the Admin API client.

Each message is one line that says what failed and what to do. Errors carry plain values only (status, API
error code, request line), never httpx request or response objects: those hold the Authorization header, and
anything reachable from an exception can end up in a log, a Dagster event or a crash report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.config.errors import SeatwatchError

KEY_HINT = "ATLASSIAN_API_KEY (or ATLASSIAN_API_KEY__<ORG_ID>)"
_DETAIL_LIMIT = 200


class AtlassianApiError(SeatwatchError):
    """An Admin API call failed. ``status_code`` is None when no HTTP response was received."""

    def __init__(self, message: str, *, status_code: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        # Requests sent before this answer: > 1 on a write means an earlier attempt, whose answer was lost
        # (a timeout, a dropped connection, a 5xx), may have made the change this one was refused for.
        self.attempts = 1


class AuthenticationError(AtlassianApiError):
    """401/403: the key is wrong, expired, scoped, or not an org admin's."""

    exit_code = 2  # configuration: the key must change before any run can succeed


class ScopedKeyError(AuthenticationError):
    """401/403 from the audit-log endpoints only: the key was created with scopes."""


def _is_audit_log(request_line: str) -> bool:
    path = request_line.split(" ", 1)[-1].split("?", 1)[0]
    return "/events" in path or path.endswith("/event-actions")


class OrgNotFoundError(AtlassianApiError):
    """404 ``ADMIN-404-2``: the org id is not one this key can see."""

    exit_code = 2


class NotFoundError(AtlassianApiError):
    """Any other 404."""


class UserNotFoundError(NotFoundError):
    """404 ``ADMIN-404-8``: the account left the org between listing and this call."""


class GroupNotFound(NotFoundError):
    """404 ``ADMIN-UAM-404-3`` / ``ADMIN-404-10`` on a write: the group no longer exists."""


class MembershipNotFound(NotFoundError):
    """404 on removing a membership: the account is not (or no longer) in the group, or not in the directory.

    Either way the membership is gone, so a caller may count the removal as already done.
    """


class WriteForbidden(AuthenticationError):
    """403 (or 401 ``INSUFFICIENT_SCOPE``) on a write: the key may read but not change this."""


class UserLimitReached(AtlassianApiError):
    """Adding a member (or restoring a user) would exceed the user limit of a product the group grants."""


class BadRequestError(AtlassianApiError):
    """400: the API refused the request as sent."""


class RetriesExhaustedError(AtlassianApiError):
    """Every attempt ended in a retryable failure (429, 5xx, timeout, dropped connection, bad JSON)."""


class RateLimitWaitExceededError(RetriesExhaustedError):
    """The API rate-limited the run for longer than the configured total wait."""


class ApiConnectionError(RetriesExhaustedError):
    """The host could not be reached at all."""


class UnsafeLinkError(AtlassianApiError):
    """A ``links.next`` URL pointed at another host; following it would hand that host the API key."""


class UnexpectedResponseError(AtlassianApiError):
    """A status or body shape the client has no rule for, or a cursor that does not advance."""


_ORG_NOT_FOUND = {"ADMIN-404-2", "ADMIN-UAM-404-2"}
_USER_NOT_FOUND = {"ADMIN-404-8"}
_GROUP_NOT_FOUND = {"ADMIN-404-10", "ADMIN-UAM-404-3"}
# "Product License Limit Exceeded" (v2 and v1 families) and "Payment Required"; docs/write-endpoints.md.
_USER_LIMIT = {"ADMIN-UAM-409-3", "ADMIN-409-3", "ADMIN-UAM-402-1"}
_INSUFFICIENT_SCOPE = {"ADMIN-401-2", "ADMIN-UAM-401-2"}


def summarize_body(body: Any) -> tuple[str | None, str | None]:
    """``(code, title)`` from any of the API's three error body families (see the API notes, section 4)."""
    if not isinstance(body, dict):
        return None, None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code, title = first.get("code"), first.get("title") or first.get("detail")
    else:
        code = body.get("code", body.get("key"))
        title = body.get("message") or body.get("error") or body.get("title")
    return (
        None if code is None else str(code)[:_DETAIL_LIMIT],
        None if title is None else str(title)[:_DETAIL_LIMIT],
    )


def _detail(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        if isinstance(first, dict) and first.get("detail"):
            return str(first["detail"])[:_DETAIL_LIMIT]
    return None


# Which error a refused request is and what it says; error_for_status adds the status and code to it.
_Rule = tuple[type[AtlassianApiError], str]


def _write_rule(status: int, code: str | None, where: str, request_line: str) -> _Rule | None:
    """The error of a refused write, or None to fall through to the read rules."""
    path = request_line.partition(" ")[2]
    if status == 403 or (status == 401 and code in _INSUFFICIENT_SCOPE):
        return WriteForbidden, (
            f"The Atlassian API refused a change: {where}. The API key may read but not change users and "
            f"groups (or this group is managed elsewhere): set {KEY_HINT} to an org API key without scopes "
            "created by an org admin (admin.atlassian.com > Settings > API keys)."
        )
    if code in _USER_LIMIT or status == 402:
        return UserLimitReached, (
            f"The product's user limit is reached: {where}. Free a seat or raise the user limit "
            "(admin.atlassian.com > Billing), then run again."
        )
    if status != 404 or code in _ORG_NOT_FOUND:
        return None
    if code in _GROUP_NOT_FOUND:
        return GroupNotFound, f"Group not found: {where}. The group was deleted; make a new plan."
    if "/memberships/" in path:
        return MembershipNotFound, f"Membership not found: {where}. The account is no longer in that group."
    return (
        UserNotFoundError,
        f"User not found: {where}. The account is no longer in the directory; make a new plan.",
    )


def _read_rule(status: int, code: str | None, where: str, request_line: str) -> _Rule:
    """The error of any other refusal (and of a write the write rules leave to it)."""
    if status in (401, 403) and _is_audit_log(request_line):
        # The audit log accepts only keys created without scopes ("OAuth 2.0 scopes required: Not supported
        # (use API Key without scopes)"); every other endpoint may have answered this same key.
        return ScopedKeyError, (
            f"The audit log refused the API key: {where}. Its endpoints accept only API keys created "
            f"without scopes: create an org API key without scopes (admin.atlassian.com > Settings > API "
            f"keys) and set {KEY_HINT}. Missing until then: audit events (invitations, suspensions, "
            "removals); users, groups and last-active dates were read."
        )
    if status in (401, 403):
        return AuthenticationError, (
            f"The Atlassian API refused the API key: {where}. The key is wrong, expired, created with "
            f"scopes, or lacks org-admin rights: set {KEY_HINT} to an org API key without scopes "
            "(admin.atlassian.com > Settings > API keys)."
        )
    if status == 404 and code in _ORG_NOT_FOUND:
        return OrgNotFoundError, (
            f"Organization not found: {where}. Check ATLASSIAN_ORG_ID against admin.atlassian.com > "
            "Settings > API keys (the key must belong to that org)."
        )
    if status == 404 and code in _USER_NOT_FOUND:
        return (
            UserNotFoundError,
            f"User not found: {where}. The account left the org during the run; run again.",
        )
    if status == 404:
        # An Atlassian error code means the resource is gone; none usually means a wrong API root.
        hint = (
            "The resource no longer exists; run again."
            if code
            else "Check ATLASSIAN_API_BASE_URL (default https://api.atlassian.com/admin)."
        )
        return NotFoundError, f"Not found: {where}. {hint}"
    if status == 400:
        return BadRequestError, (
            f"The Atlassian API rejected the request: {where}. The API may have changed; report this line "
            "to the Seatwatch maintainers."
        )
    return UnexpectedResponseError, (
        f"Unexpected answer from the Atlassian API: {where}. Check ATLASSIAN_API_BASE_URL, or report this "
        "line to the Seatwatch maintainers."
    )


def error_for_status(
    status: int, body: Any, request_line: str, redact: Callable[[str], str], *, write: bool = False
) -> AtlassianApiError:
    """The typed error for a non-retryable HTTP status. ``request_line`` is ``METHOD /path`` (no query);
    ``write``: the request was one of the write endpoints."""
    code, title = summarize_body(body)
    # A refused write says why in `detail` (the user limit, a synced group); reads keep their short form.
    detail = _detail(body) if write else None
    said = redact(" ".join(part for part in (code, title, detail) if part)) or "no error details"
    where = f"{request_line} → HTTP {status} ({said})"
    rule = _write_rule(status, code, where, request_line) if write else None
    kind, message = rule or _read_rule(status, code, where, request_line)
    return kind(message, status_code=status, code=code)
