"""The org audit log: ``/events-stream`` read on the API's clock, from the last processing time loaded.

Sorted by processing time, so late events are not missed; read from the newest processing time already
loaded (kept in dlt state) less :data:`EVENTS_OVERLAP`, up to wherever the API has caught up. The design
record is in docs/architecture.md ("Audit events").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from pipeline.config.shared import AUDIT_RETENTION_DAYS, ProgressFn
from pipeline.sources.atlassian_admin import mappers, schema
from pipeline.sources.atlassian_admin.run import OrgSession, OrgTally, RunTally

# Each run re-reads the audit log from this long before the newest processing time it loaded. `from`
# filters on event time, and an event can be processed hours after it happened (Atlassian documents no
# bound; the simulator delays up to 8 h), so a late arrival is still read. Re-read events merge on their
# id, so the overlap costs a few calls and never a duplicate.
EVENTS_OVERLAP = timedelta(hours=24)
_STATE_KEY = "events_processed_through"  # org_id → ISO processedAt of the newest event loaded


def audit_events(sessions: Sequence[OrgSession], progress: ProgressFn, tally: RunTally) -> Any:
    @dlt.resource(name="audit_events", **schema.hints("audit_events"))
    def rows() -> Iterator[list[dict[str, Any]]]:
        state = dlt.current.resource_state().setdefault(_STATE_KEY, {})
        for session in sessions:
            yield from _audit_event_rows(session, state, progress, tally[session.org_id])

    return rows


def _to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _processed_at(row: dict[str, Any]) -> datetime | None:
    raw = row.get("processed_at") or row.get("event_at")
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def events_start(state: dict[str, str], org_id: str, api_now: datetime) -> datetime:
    """Where this run reads the audit log from: the newest processing time already loaded, less
    :data:`EVENTS_OVERLAP`; on a first load the API's retention (180 days before the API's now)."""
    loaded_through = state.get(org_id)
    if loaded_through is None:
        return api_now - timedelta(days=AUDIT_RETENTION_DAYS)
    return datetime.fromisoformat(loaded_through) - EVENTS_OVERLAP


def _audit_event_rows(
    session: OrgSession, state: dict[str, str], progress: ProgressFn, org: OrgTally
) -> Iterator[list[dict[str, Any]]]:
    # Both ends follow the API's clock, never ours: the start is a processing time the API served, and
    # the end is open (the stream stops where the API has caught up). So no gap opens between runs however
    # far the local clock is from the API's (docs/architecture.md, "Audit events").
    api, org_id = session.api, session.org_id
    previous = datetime.fromisoformat(state[org_id]) if org_id in state else None
    newest = previous
    since = events_start(state, org_id, api.server_now())
    for page in api.iter_events_stream(org_id, from_ms=_to_ms(since)):
        rows = [mappers.audit_event_row(item, org_id) for item in page.items]
        for row in rows:
            moment = _processed_at(row)
            # Counted once: an event of the overlap processed by the last load was counted by that load.
            if moment is None or previous is None or moment > previous:
                org.events += 1
            if moment is not None and (newest is None or moment > newest):
                newest = moment
        progress("events", {"org_id": org_id, "events": org.events})
        if rows:
            yield rows
    if newest is not None and newest != previous:
        # Kept in dlt state, committed with the same load as the rows: a failed load moves nothing.
        state[org_id] = newest.isoformat()
