"""``seatwatch doctor``: is this org ready for Seatwatch? Read-only, about twenty calls, well under a minute.

Checks, per org: the key is accepted, the org answers, its directories and user count, whether the bulk
users search returns ``productAccess``, whether bulk and per-user last-active dates agree on a sample of
users once product identities are normalised, whether the audit log accepts the key (a key created with
scopes is refused there), which rate-limit headers the API sends and how precise ``X-RateLimit-Reset`` is,
and which product keys the endpoints use and what they normalise to (``dbt_project/seeds/
product_aliases.csv``, the same table the dbt models use). A failed check means ``seatwatch run`` would
fail or could not be trusted; a warning is worth knowing but blocks nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from pipeline.atlassian import AdminApi, AdminClient
from pipeline.atlassian.clock import clock_gap
from pipeline.atlassian.errors import AtlassianApiError, AuthenticationError, OrgNotFoundError, ScopedKeyError
from pipeline.atlassian.pacing import RateLimitHeaders, server_date
from pipeline.config.seeds import product_aliases, product_key
from pipeline.config.settings import OrgCredentials, Settings

SAMPLE_USERS = 10
OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    name: str
    status: str
    detail: str


@dataclass
class OrgReport:
    org_id: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(check.status != FAIL for check in self.checks)

    def add(self, name: str, status: str, detail: str) -> None:
        self.checks.append(Check(name, status, detail))


def api_key_of(item: dict[str, Any]) -> str | None:
    """The product as an endpoint named it: its key, else the ARI's product segment (as dbt staging does)."""
    key = (item.get("key") or "").strip().lower()
    if key:
        return key
    resource = item.get("id") or item.get("resourceId") or ""
    return resource.split(":")[2].lower() or None if resource.startswith("ari:cloud:") else None


def _site(resource: str | None) -> str | None:
    return resource.rsplit("/", 1)[-1] if resource else None


class HeaderLog(httpx.AsyncBaseTransport):
    """A transport that remembers the rate-limit headers of every answer (the client keeps none)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.samples: list[tuple[str, datetime | None, RateLimitHeaders | None]] = []
        self.offsets: list[float] = []  # the API's Date minus this machine's clock, per answer (seconds)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        date = server_date(response.headers)
        if date is not None:
            self.offsets.append((date - datetime.now(UTC)).total_seconds())
        raw = response.headers.get("x-ratelimit-reset")
        if raw is not None:
            self.samples.append(
                (raw, server_date(response.headers), RateLimitHeaders.parse(response.headers))
            )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def reset_precision(samples: Iterable[tuple[str, datetime | None, Any]]) -> str:
    """``fractional``, ``second``, ``minute`` (a Reset at or before Date: truncated), or ``whole minutes``
    when every Reset seen fell on a minute after Date (either precision could send that)."""
    resets = list(samples)
    if any("." in raw for raw, _, _ in resets):
        return "fractional"
    moments = []
    for raw, date, _ in resets:
        try:
            moments.append((datetime.fromisoformat(raw.strip()), date))
        except ValueError:
            return "unreadable"
    if any(date is not None and moment <= date for moment, date in moments):
        return "minute"
    if any(moment.second for moment, _ in moments):
        return "second"
    return "whole minutes"


async def _first_page(pages: Any) -> Any:
    async for page in pages:
        await pages.aclose()
        return page
    return None


async def _first_items(items: Any, limit: int) -> list[Any]:
    found = []
    async for item in items:
        found.append(item)
        if len(found) >= limit:
            break
    await items.aclose()
    return found


def _normalised(keys: Iterable[str], aliases: dict[str, str]) -> dict[str, str | None]:
    return {key: product_key(key, aliases) for key in sorted(set(keys))}


async def diagnose_org(
    base_url: str, org: OrgCredentials, aliases: dict[str, str], transport: httpx.AsyncBaseTransport | None
) -> OrgReport:
    report = OrgReport(org.org_id)
    log = HeaderLog(transport or httpx.AsyncHTTPTransport())
    # Few attempts and a short timeout: a doctor answers in under a minute, or says what it could not reach.
    async with AdminClient(
        base_url, org.api_key, transport=log, timeout=15, max_attempts=2, max_wait=20
    ) as client:
        api = AdminApi(client)
        try:
            data = await api.get_org(org.org_id)
        except AuthenticationError as error:
            report.add("api key", FAIL, str(error))
            return report
        except OrgNotFoundError as error:
            report.add("api key", OK, "accepted")
            report.add("org", FAIL, str(error))
            return report
        report.add("api key", OK, "accepted (GET /v1/orgs/{orgId})")
        report.add("org", OK, f"{(data.get('attributes') or {}).get('name', '?')} ({org.org_id})")
        keys: set[str] = set()
        # One failing area is a failed row, not the end of the diagnosis.
        for name, step in (
            ("users", _directories_and_users(api, org.org_id, report)),
            ("bulk productAccess", _product_access(api, org.org_id, report, aliases)),
            ("groups", _groups_and_workspaces(api, org.org_id, report)),
            ("audit log", _events(api, org.org_id, report)),
        ):
            try:
                keys |= await step or set()
            except AtlassianApiError as error:
                report.add(name, FAIL, str(error))
    _rate_limits(log.samples, report)
    _clock(log.offsets, report)
    _product_keys(keys, aliases, report)
    return report


async def _directories_and_users(api: AdminApi, org_id: str, report: OrgReport) -> set[str]:
    directories = await _first_items(api.list_directories(org_id), 50)
    names = ", ".join(str(d.get("name") or d.get("directoryId")) for d in directories) or "none"
    report.add("directories", OK if directories else FAIL, f"{len(directories)}: {names}")
    count = await api.count_users(org_id)
    report.add("users", OK if count else WARN, f"{count} listed")
    return set()


async def _product_access(api: AdminApi, org_id: str, report: OrgReport, aliases: dict[str, str]) -> set[str]:
    """Bulk productAccess on the first page, and its agreement with per-user last-active dates."""
    expand = ["productAccess", "counts.resources"]
    page = await _first_page(api.search_users(org_id, expand=expand, limit=100))
    users = page.items if page else []
    # The extract compares each user's resource count with their groups' grants to find direct grants;
    # without counts it reads every user's role assignments (docs/direct-grants.md).
    counted = sum(1 for user in users if isinstance((user.get("counts") or {}).get("resources"), int))
    report.add(
        "direct grants",
        OK if counted or not users else WARN,
        f"counts.resources returned for {counted} of {len(users)} users"
        + ("" if counted or not users else ": the extract will read every user's role assignments daily"),
    )
    carrying = [user for user in users if "productAccess" in user]
    entries = [entry for user in carrying for entry in user["productAccess"] or []]
    keys = {key for entry in entries if (key := api_key_of(entry))}
    if users and not carrying:
        report.add("bulk productAccess", FAIL, "the users search ignored the productAccess expand")
    elif not entries:
        report.add("bulk productAccess", WARN, f"returned for {len(carrying)} users, all empty")
    else:
        unused = sum(1 for entry in entries if not entry.get("lastActiveTimestamp"))
        listing = "every accessible product" if unused else "used products only (or every seat is used)"
        report.add(
            "bulk productAccess", OK, f"{len(entries)} entries for {len(carrying)} users; lists {listing}"
        )
    sample = [user for user in carrying if user["productAccess"]][:SAMPLE_USERS]
    agree, differ, failed = 0, [], 0
    for user in sample:
        bulk = {
            (
                product_key(api_key_of(e) or "", aliases) or api_key_of(e),
                _site(e.get("id")),
                e["lastActiveTimestamp"][:10],
            )
            for e in user["productAccess"]
            if e.get("lastActiveTimestamp")
        }
        try:
            answer = await api.get_last_active_dates(org_id, user["accountId"])
        except AtlassianApiError:
            failed += 1
            continue
        per_user_entries = answer.get("product_access") or []
        keys |= {key for entry in per_user_entries if (key := api_key_of(entry))}
        per_user = {
            (
                product_key(api_key_of(e) or "", aliases) or api_key_of(e),
                _site(e.get("id")),
                (e.get("last_active") or "")[:10],
            )
            for e in per_user_entries
            if e.get("last_active")
        }
        if bulk == per_user:
            agree += 1
        else:
            differ.append(user["accountId"])
    if sample:
        status = OK if not differ and not failed else (WARN if agree else FAIL)
        detail = f"{agree} of {len(sample)} sampled users agree (normalised product, site, date)"
        if differ:
            detail += f"; differ: {', '.join(differ[:3])}"
        if failed:
            detail += f"; {failed} per-user calls refused"
        report.add("bulk vs per-user", status, detail)
    return keys


async def _groups_and_workspaces(api: AdminApi, org_id: str, report: OrgReport) -> set[str]:
    keys: set[str] = set()
    groups = await _first_items(api.iter_groups(org_id, limit=20), 20)
    with_counts = sum(1 for group in groups if (group.get("counts") or {}).get("users") is not None)
    report.add(
        "groups",
        OK if not groups or with_counts else WARN,
        f"{len(groups)} on the first page, {with_counts} with member counts",
    )
    for group in groups[:3]:
        directory = group.get("directoryId") or "-"
        for item in await api.get_group_role_assignments(org_id, directory, group["id"]):
            keys |= {key} if (key := api_key_of(item)) else set()
    for workspace in await _first_items(api.search_workspaces(org_id, limit=50), 50):
        attributes = workspace.get("attributes") or {}
        keys |= (
            {k} if (k := api_key_of({"key": attributes.get("type"), "id": workspace.get("id")})) else set()
        )
    return keys


async def _events(api: AdminApi, org_id: str, report: OrgReport) -> set[str]:
    try:
        await _first_page(api.iter_events_stream(org_id, limit=1))
    except ScopedKeyError:
        report.add(
            "audit log",
            FAIL,
            "refused: the key was created with scopes; create an org API key without scopes "
            "(admin.atlassian.com > Settings > API keys). Missing until then: audit events",
        )
        return set()
    report.add("audit log", OK, "readable (events-stream)")
    return set()


def _rate_limits(samples: list, report: OrgReport) -> None:
    if not samples:
        report.add("rate-limit headers", WARN, "none seen: only the client's concurrency bound will pace")
        return
    precision = reset_precision(samples)
    detail = f"seen on {len(samples)} answers; X-RateLimit-Reset precision: {precision}"
    if precision in ("minute", "whole minutes"):
        detail += " (a Reset at or before Date waits for the next minute)"
    report.add("rate-limit headers", OK, detail)


def _clock(offsets: list[float], report: OrgReport) -> None:
    if not offsets:
        return
    # The latest answer: the Date header has whole seconds, and the calls above took some.
    gap = clock_gap(offsets[-1])
    if gap is None:
        report.add("clock", OK, "the API's Date header agrees with this machine's clock (within 5 min)")
    else:
        report.add(
            "clock", WARN, f"the API's clock is {gap} this machine's; Seatwatch follows the API's clock"
        )


def _product_keys(keys: set[str], aliases: dict[str, str], report: OrgReport) -> None:
    mapping = _normalised(keys, aliases)
    unknown = [key for key, product in mapping.items() if product is None]
    detail = ", ".join(f"{key}→{product or '?'}" for key, product in mapping.items()) or "none seen"
    if unknown:
        detail += f"; unknown: {', '.join(unknown)} (add to dbt_project/seeds/product_aliases.csv)"
    report.add("product keys", FAIL if unknown else OK, detail)


def diagnose(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> list[OrgReport]:
    aliases = product_aliases()

    async def all_orgs() -> list[OrgReport]:
        return [await diagnose_org(settings.api_base_url, org, aliases, transport) for org in settings.orgs]

    return asyncio.run(all_orgs())


def format_reports(reports: list[OrgReport]) -> str:
    lines = []
    for report in reports:
        lines.append(f"org {report.org_id}: {'ready' if report.ready else 'problems found'}")
        width = max(len(check.name) for check in report.checks)
        for check in report.checks:
            lines.append(f"  {check.name:<{width}}  {check.status:<4}  {check.detail}")
    return "\n".join(lines)


def to_json(reports: list[OrgReport]) -> dict[str, Any]:
    return {
        "ready": all(report.ready for report in reports),
        "orgs": [
            {"org_id": r.org_id, "ready": r.ready, "checks": [asdict(c) for c in r.checks]} for r in reports
        ],
    }
