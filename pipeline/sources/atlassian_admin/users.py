"""Users and what hangs off them: one listing per org (``user_pages``, not loaded itself) feeds the ``users``
table and, as transformers, last-active dates, product access and group memberships.

The listing is v2 ``POST /directories/-/users/search`` with ``expand`` ``productAccess``, ``groups``,
``platformRoles`` and ``counts.resources``: one call per 100 users gives the users, their group memberships,
their product access, (``bulk``) their per-product last-active timestamps, and how many resources each holds
a role on (whose direct grants :mod:`.roles` reads). With ``per_user`` (or ``auto`` when the API
refuses the ``productAccess`` expand) last-active dates take one ``last-active-dates`` call per user,
fanned out by the client with bounded concurrency and paced by the API's rate-limit headers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dlt

from pipeline.atlassian.errors import AtlassianApiError
from pipeline.config.shared import ProgressFn
from pipeline.sources.atlassian_admin import mappers, schema
from pipeline.sources.atlassian_admin.run import OrgSession, ReadFailures, RunInfo, RunTally

log = logging.getLogger("seatwatch.extract")

USERS_SEARCH_LIMIT = 100  # the most users a v2 search page holds
BASE_EXPAND = ["groups", "platformRoles", "counts.resources"]  # every listing asks for these
# Statuses of v2 search errors that mean "this expand or endpoint is not available here".
_UNSUPPORTED_STATUSES = {400, 404, 405, 501}
_SNAPSHOT_HINTS = dlt.mark.make_hints(**schema.hints("user_snapshots"))
LAST_ACTIVE_RESOURCE = "user_product_last_active"


@dataclass(frozen=True)
class UserPage:
    """One page of an org's users as the API listed them, with the snapshot every row of it belongs to."""

    session: OrgSession
    context: mappers.SnapshotContext
    items: list[dict[str, Any]]
    bulk: bool  # the page carries productAccess (last-active timestamps and direct access)
    first: bool  # the org's first page
    # per_user: the answers of the page's per-user last-active calls, read with the listing (None: not read
    # yet, the transformer reads them).
    last_active: list[dict[str, Any] | None] | None = None

    @property
    def org_id(self) -> str:
        return self.session.org_id


def _search(session: OrgSession, expand: list[str]) -> Iterator[Any]:
    return session.api.search_users(session.org_id, expand=expand, limit=USERS_SEARCH_LIMIT)


def _search_per_user(session: OrgSession, run: RunInfo) -> Iterator[tuple[Any, Any]]:
    """The listing for per-user last-active calls: read with it, a few pages ahead, when this run loads
    them (a run that loads only some tables, e.g. ``users`` from the Dagster UI, makes none)."""
    if run.loads(LAST_ACTIVE_RESOURCE):
        return session.api.search_users_with_last_active(
            session.org_id, expand=BASE_EXPAND, limit=USERS_SEARCH_LIMIT
        )
    return ((page, None) for page in _search(session, BASE_EXPAND))


def _pages(session: OrgSession, run: RunInfo) -> tuple[Iterator[tuple[Any, Any]], bool]:
    """The org's search pages, each with its per-user last-active answers when they were read with it
    (else None), and whether they carry productAccess (when the strategy wants it and the API allows it)."""
    if run.strategy not in ("auto", "bulk"):
        return _search_per_user(session, run), False
    pages = _search(session, ["productAccess", *BASE_EXPAND])
    try:
        first = next(pages, None)
    except AtlassianApiError as error:
        if run.strategy != "auto" or getattr(error, "status_code", None) not in _UNSUPPORTED_STATUSES:
            raise
        log.info(
            "org %s: users search refused the productAccess expand; using per-user calls", session.org_id
        )
        return _search_per_user(session, run), False
    # A 200 is not enough: an API that ignores the expand sends users without productAccess at all, and
    # reading that as "no access, no activity" would make everyone idle. Go per user instead (the transformer
    # reads each page's answers: this listing has started already).
    bulk = first is None or not first.items or any("productAccess" in item for item in first.items)
    if not bulk:
        log.warning("org %s: users search sent no productAccess; using per-user calls", session.org_id)
    listing = (page for pages_ in ([first] if first else [], pages) for page in pages_)
    return ((page, None) for page in listing), bulk


def user_pages(sessions: Sequence[OrgSession], run: RunInfo, progress: ProgressFn, tally: RunTally) -> Any:
    @dlt.resource(name="user_pages", selected=False)
    def pages() -> Iterator[UserPage]:
        for session in sessions:
            listing, bulk = _pages(session, run)
            context: mappers.SnapshotContext | None = None
            fetched = 0
            for page, last_active in listing:
                # The API's clock, not ours: the simulator's Date is simulated and a real server's may differ.
                context = context or mappers.SnapshotContext(session.org_id, run.run_id, page.date)
                fetched += len(page.items)
                progress("users", {"org_id": session.org_id, "users": fetched})
                first = fetched == len(page.items)
                yield UserPage(session, context, page.items, bulk, first, last_active)
            org = tally[session.org_id]
            org.users = fetched
            org.strategy = "bulk" if bulk else "per_user"
            # An org with no users still needs an as-of time.
            org.extracted_at = context.extracted_at if context else session.api.server_now()

    return pages


@dlt.transformer(**schema.hints("users"))
def users(page: UserPage) -> Iterator[Any]:
    rows = [mappers.user_row(item, page.context) for item in page.items]
    yield rows
    # The same rows keyed by day: the history that tells removed users apart. Its own key includes the day
    # (re-running a day replaces that day's snapshot; a new day adds one).
    if page.first:
        yield dlt.mark.with_hints(rows, _SNAPSHOT_HINTS, create_table_variant=True)
    else:
        # The variant exists from the org's first page. Hints on every page would make dlt drop the schema
        # of every table and compute it again on its next item: 1,000 pages at 100,000 users cost minutes.
        yield dlt.mark.with_table_name(rows, "user_snapshots")


def user_product_last_active(progress: ProgressFn, tally: RunTally, failures: ReadFailures) -> Any:
    @dlt.transformer(name=LAST_ACTIVE_RESOURCE, **schema.hints(LAST_ACTIVE_RESOURCE))
    def last_active(page: UserPage) -> Iterator[list[dict[str, Any]]]:
        account_ids = [item["accountId"] for item in page.items]
        if page.bulk:
            access = [item.get("productAccess") or [] for item in page.items]
        else:
            # One call per user, read with the listing a few pages ahead (or here, a page at a time): the
            # client's bounded concurrency stays busy while memory stays flat.
            answers = page.last_active
            if answers is None:
                answers = page.session.api.map_last_active_dates(page.org_id, account_ids)
            access = [(answer or {}).get("product_access") or [] for answer in answers]
        rows = [
            row
            for account_id, products in zip(account_ids, access, strict=True)
            for row in mappers.last_active_rows_from_product_access(account_id, products, page.context)
        ]
        if not page.bulk:
            for account_id, answer in zip(account_ids, answers, strict=True):
                if answer and "failure" in answer:  # its activity is unknown, not absent
                    failures.add(page.context, "last-active-dates", account_id, answer["failure"])
        org = tally[page.org_id]
        org.last_active += len(rows)
        if not page.bulk:
            progress(
                "last_active", {"org_id": page.org_id, "users": len(account_ids), "rows": org.last_active}
            )
        yield rows

    return last_active


@dlt.transformer(**schema.hints("user_product_access"))
def user_product_access(page: UserPage) -> Iterator[list[dict[str, Any]]]:
    if not page.bulk:
        return  # access then comes from group grants alone (see the dbt access model)
    yield [
        row
        for item in page.items
        for row in mappers.access_rows_from_product_access(
            item["accountId"], item.get("productAccess") or [], page.context
        )
    ]


@dlt.transformer(**schema.hints("group_memberships"))
def group_memberships(page: UserPage) -> Iterator[dict[str, Any]]:
    if all(item.get("groups") is not None for item in page.items):
        for item in page.items:
            for group in item["groups"] or []:
                if group.get("id"):
                    yield {"org_id": page.org_id, "group_id": group["id"], "account_id": item["accountId"]}
        return
    if not page.first:
        return
    # No `groups` expand: once per org, ask each group for its members through the users `groupIds` filter.
    api = page.session.api
    for group in api.iter_groups(page.org_id):
        for account_id in api.iter_group_member_ids(page.org_id, group["id"]):
            yield {"org_id": page.org_id, "group_id": group["id"], "account_id": account_id}
