"""The inbox: which events this consumer has already handled (idempotent consumer).

Each claim records the event's id and a digest of what it said. A redelivery
(same id, same content) is a duplicate: its effect is already committed. The
same id with other content is not a duplicate but an id reused by mistake or
malice; it is reported as a conflict, for the consumer to dead-letter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from clearance_runtime.envelope import CloudEvent

_CLAIM = text(
    "INSERT INTO inbox (consumer, event_id, event_type, digest) "
    "SELECT :consumer, ids.event_id, ids.event_type, ids.digest "
    "FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[]), CAST(:digests AS bytea[])) "
    "AS ids(event_id, event_type, digest) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)
_DIGESTS = text(
    "SELECT event_id, digest FROM inbox WHERE consumer = :consumer AND event_id = ANY(:ids)"
)


@dataclass
class Claim:
    """The outcome of claiming a batch: which events to handle, which to skip."""

    fresh: list[CloudEvent] = field(default_factory=list)
    duplicates: list[CloudEvent] = field(default_factory=list)
    conflicts: list[CloudEvent] = field(default_factory=list)


async def claim(session: AsyncSession, consumer: str, events: Sequence[CloudEvent]) -> Claim:
    """Record the events as handled in the caller's transaction and sort them:
    fresh (handle now), duplicates (already handled), conflicts (an id already
    handled, or repeated in this batch, with other content)."""
    outcome = Claim()
    if not events:
        return outcome
    digest_of = {id(event): event.digest() for event in events}
    first: dict[str, CloudEvent] = {}
    for event in events:
        first.setdefault(event.id, event)
    result = await session.execute(
        _CLAIM,
        {
            "consumer": consumer,
            "ids": list(first),
            "types": [event.type for event in first.values()],
            "digests": [digest_of[id(event)] for event in first.values()],
        },
    )
    new_ids = {row[0] for row in result}
    known = await _known_digests(session, consumer, [i for i in first if i not in new_ids])
    handled: set[str] = set()
    for event in events:
        stored = digest_of[id(first[event.id])] if event.id in new_ids else known.get(event.id)
        if stored is not None and stored != digest_of[id(event)]:
            outcome.conflicts.append(event)
        elif event.id in new_ids and event.id not in handled:
            handled.add(event.id)
            outcome.fresh.append(event)
        else:
            outcome.duplicates.append(event)
    return outcome


async def _known_digests(
    session: AsyncSession, consumer: str, ids: list[str]
) -> dict[str, bytes | None]:
    if not ids:
        return {}
    rows = await session.execute(_DIGESTS, {"consumer": consumer, "ids": ids})
    # A row claimed before digests were kept (None) matches nothing: treat as the same.
    return {row.event_id: row.digest for row in rows}
