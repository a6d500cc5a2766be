"""The API side of apply, undo and abandon: the clients, the reads just before acting, one journaled write.

The journal, not the answer, is the truth of what happened. A write is journaled ``intent`` before it is
sent and settled after it:

* answered: ``applied`` (with the request id), or refused: ``failed`` / back to ``planned``;
* no answer at all (every attempt timed out or failed): left ``intent``; whoever meets it next reads the user
  and settles it by what the API shows (:func:`resolve_intent`);
* an answer lost and the retry refused for "already done" (a removal answered 504 after the API acted, then
  404): the user is read, and a change confirmed by the read is ``applied`` by this run: it counts against
  the cap, is verified by the next run and restored by undo. Only a first attempt's 404 (nothing of ours
  could have acted) is "already gone".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from pipeline.atlassian import errors as api_errors
from pipeline.config.errors import ConfigurationError, SeatwatchError
from pipeline.config.settings import Settings
from pipeline.reclaim.fresh import FreshGroup, FreshUser, parse_fresh, parse_group
from pipeline.reclaim.journal import APPLIED, FAILED, PLANNED, SKIPPED, Entry, Journal
from pipeline.reclaim.plan import REMOVE, SUSPEND

ADD, RESTORE = "add_group_member", "restore_user"
UNDO_OF = {REMOVE: ADD, SUSPEND: RESTORE}
Say = Callable[[str], None]
LOST_ANSWER = (
    "the answer was lost (a timeout, a dropped connection or a 5xx) and the retry found it done: "
    "confirmed by a read"
)


class ReclaimRefused(SeatwatchError):
    """Configuration or usage: nothing (more) was written. Exit 2."""

    exit_code = 2


class ReclaimStopped(SeatwatchError):
    """The run stopped at an unexpected error; the journal says what was done. Exit 1."""


class ReclaimInterrupted(SeatwatchError):
    """A stop request (Ctrl-C, SIGTERM) honoured between two writes; the run is recorded ``stopped``."""

    def __init__(self, kind: str, run_id: str, next_step: str) -> None:
        super().__init__(f"{kind} run {run_id[:8]} stopped between two writes; {next_step}")
        self.kind, self.run_id, self.next_step = kind, run_id, next_step


def check_settings_for_writes(settings: Settings) -> None:
    """Refuse the demo org before any lock or journal is touched (same rule as :func:`open_apis`)."""
    if settings.is_demo or settings.is_embedded_demo:
        raise ConfigurationError(
            "The embedded demo org is rebuilt for every command, so nothing applied to it would last: start "
            "`seatwatch simulator` in another shell and export the three lines it prints (or set "
            "ATLASSIAN_ORG_ID and ATLASSIAN_API_KEY for a real org)."
        )


@contextmanager
def open_apis(
    settings: Settings, org_ids: set[str], client_options: Mapping[str, Any] | None
) -> Iterator[dict[str, Any]]:
    """One paced client per org, each checked with a read (a wrong key or org id: one line, exit 2)."""
    from pipeline.atlassian import SyncAdminApi

    check_settings_for_writes(settings)
    configured = {org.org_id: org for org in settings.orgs}
    missing = sorted(org_ids - set(configured))
    if missing:
        raise ReclaimRefused(
            f"The plan acts on org {missing[0]}, which ATLASSIAN_ORG_ID does not list: add it (with its key) "
            "or make the plan with --org for a configured org."
        )
    options = {"max_rate_limited_wait": settings.rate_limit_max_wait_seconds, **(client_options or {})}
    with ExitStack() as stack:
        apis = {}
        for org_id in sorted(org_ids):
            api = stack.enter_context(
                SyncAdminApi(settings.api_base_url, configured[org_id].api_key, **options)
            )
            api.get_org(org_id)
            apis[org_id] = api
        yield apis


def read_user(api: Any, org_id: str, account_id: str, aliases: dict[str, str]) -> FreshUser:
    pages = api.search_users(
        org_id, expand=["groups", "platformRoles"], filters={"accountIds": [account_id]}, limit=1
    )
    user = next((item for page in pages for item in page.items if item.get("accountId") == account_id), None)
    if user is None:
        return FreshUser(listed=False)
    try:
        last_active = api.get_last_active_dates(org_id, account_id)
    except api_errors.UserNotFoundError:
        return FreshUser(listed=False)
    return parse_fresh(user, last_active, aliases)


@dataclass
class GroupReader:
    """Groups as the API shows them, each read once per run (what a group grants is an admin's change)."""

    apis: Mapping[str, Any]
    aliases: dict[str, str]
    _seen: dict[tuple[str, str], FreshGroup] = field(default_factory=dict)

    def get(self, org_id: str, directory_id: str, group_id: str, *, again: bool = False) -> FreshGroup:
        key = (org_id, group_id)
        if again or key not in self._seen:
            api = self.apis[org_id]
            found = next(
                (
                    g
                    for g in api.iter_groups(org_id, group_ids=[group_id], limit=1)
                    if g.get("id") == group_id
                ),
                None,
            )
            assignments = (
                [] if found is None else api.get_group_role_assignments(org_id, directory_id, group_id)
            )
            self._seen[key] = parse_group(found, assignments, self.aliases)
        return self._seen[key]


def _call(api: Any, entry: Entry) -> Any:
    """The write of one journal entry; returns the API's WriteReceipt."""
    if entry.action == REMOVE:
        return api.remove_group_member(entry.org_id, entry.directory_id, entry.group_id, entry.account_id)
    if entry.action == ADD:
        return api.add_group_member(entry.org_id, entry.directory_id, entry.group_id, entry.account_id)
    if entry.action == SUSPEND:
        return api.suspend_user(entry.org_id, entry.directory_id, entry.account_id)
    if entry.action == RESTORE:
        return api.restore_user(entry.org_id, entry.directory_id, entry.account_id)
    raise ValueError(f"unknown journal action {entry.action}")


def already_done(entry: Entry, fresh: FreshUser) -> bool:
    """Does the API show the entry's effect (a write left ``intent``, or answered "already done")?"""
    if entry.action == REMOVE:
        return entry.group_id not in fresh.group_ids
    if entry.action == ADD:
        return entry.group_id in fresh.group_ids
    if entry.action == SUSPEND:
        return fresh.membership_status == "suspended"
    return fresh.listed and fresh.membership_status == "active"  # RESTORE


def who(entry: Entry) -> str:
    target = f" {entry.group_name or entry.group_id}" if entry.group_id else ""
    return f"{entry.action}{target} for {entry.account_id}"


@dataclass
class Writer:
    """Writes of one run: journaled intent → call → result."""

    journal: Journal
    groups: GroupReader
    say: Say
    undo: bool

    def write(self, api: Any, entry: Entry) -> str:
        """Journal intent, call, journal the result; returns the state. Raises to stop the run."""
        journal = self.journal
        journal.mark_intent(entry.action_id)
        try:
            receipt = _call(api, entry)
        except api_errors.WriteForbidden:
            return self._forbidden(api, entry)
        except api_errors.MembershipNotFound as error:
            return self._not_found(api, entry, error.attempts)
        except api_errors.UserLimitReached as error:
            if not self.undo:
                raise
            reason = (
                f"the product's user limit is reached: free a seat, then add the user back by hand ({error})"
            )
            journal.settle(entry.action_id, FAILED, reason=reason)
            return FAILED
        except api_errors.RetriesExhaustedError as error:
            # No answer: nobody knows whether the write happened. The entry stays `intent`, and whoever
            # meets it next reads the user to find out.
            raise ReclaimStopped(
                f"Stopped: {error} Whether {who(entry)} happened is unknown; run the same command again and "
                "it reads the user to find out before going on."
            ) from None
        except api_errors.AtlassianApiError as error:
            journal.settle(entry.action_id, FAILED, reason=str(error))
            raise ReclaimStopped(
                f"Stopped at the first unexpected error: {error} The journal (marts.reclaim_actions after "
                "the next run) shows what was done; run the same command again to go on."
            ) from None
        reason = LOST_ANSWER if receipt.attempts > 1 else None
        journal.settle(
            entry.action_id, APPLIED, reason=reason, request_id=receipt.request_id, done_at=receipt.at
        )
        return APPLIED

    def _forbidden(self, api: Any, entry: Entry) -> str:
        """A 403: a group managed elsewhere fails this write only; a key that may not write stops the run."""
        if entry.group_id and entry.directory_id:
            group = self.groups.get(entry.org_id, entry.directory_id, entry.group_id, again=True)
            if group.listed and group.managed_elsewhere:
                name = group.name or entry.group_name or entry.group_id
                reason = (
                    f"refused (HTTP 403): group {name} is synced from an identity provider; change it there"
                )
                self.journal.settle(entry.action_id, FAILED, reason=reason)
                return FAILED
        # Nothing changed: the write goes back to planned, and the next run with a key that may write resumes
        # here.
        self.journal.settle(
            entry.action_id, PLANNED, reason="refused: the API key may read but not write (HTTP 403)"
        )
        raise ReclaimRefused(
            f"The Atlassian API refused to write with this API key ({who(entry)} → HTTP 403): it may read "
            "but not change users. Set ATLASSIAN_API_KEY to an org admin's key without scopes and read-write "
            "access, then run again; the journal keeps the plan's place."
        )

    def _not_found(self, api: Any, entry: Entry, attempts: int) -> str:
        # A 404 also answers a wrong directory id: only a read tells "gone" from "never found".
        fresh = read_user(api, entry.org_id, entry.account_id, {})
        if not already_done(entry, fresh):
            self.journal.settle(entry.action_id, FAILED, reason="HTTP 404 but the user is still in the group")
            raise ReclaimStopped(
                f"The API answered 404 to {who(entry)} but the user is still in the group (a wrong directory "
                "id?); stopped. Run `seatwatch run` and make a new plan."
            )
        if attempts > 1:
            # An earlier attempt of ours may have removed it (its answer lost): counted as ours, never fewer.
            self.journal.settle(entry.action_id, APPLIED, reason=LOST_ANSWER, done_at=api.server_now())
            return APPLIED
        self.journal.settle(entry.action_id, SKIPPED, reason="the membership was already gone")
        return SKIPPED


def resolve_intent(journal: Journal, api: Any, entry: Entry, say: Say, *, unknown_state: str | None) -> bool:
    """A write a killed run left ``intent``: True when the API shows it done (journaled ``applied``).

    Otherwise it is left as it is, or settled ``unknown_state`` (abandon: ``skipped``).
    """
    fresh = read_user(api, entry.org_id, entry.account_id, {})
    if already_done(entry, fresh):
        journal.settle(
            entry.action_id,
            APPLIED,
            reason="resumed: the interrupted call had reached the API (confirmed by a read)",
            done_at=api.server_now(),
        )
        say(f"  resumed  {who(entry)}: the interrupted call had gone through")
        return True
    if unknown_state is not None:
        journal.settle(
            entry.action_id, unknown_state, reason="abandoned: the interrupted call had not reached the API"
        )
    return False
