"""The inbox: which events this consumer has already handled (idempotent consumer)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from clearance_runtime.envelope import CloudEvent

_CLAIM = text(
    "INSERT INTO inbox (consumer, event_id, event_type) "
    "SELECT :consumer, ids.event_id, ids.event_type "
    "FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[])) AS ids(event_id, event_type) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)


async def claim(session: AsyncSession, consumer: str, events: Sequence[CloudEvent]) -> set[str]:
    """Record the events as handled in the caller's transaction; return the new ids.

    An id already present (a redelivery) is not returned: its effect is
    already committed, so the caller skips it.
    """
    if not events:
        return set()
    result = await session.execute(
        _CLAIM,
        {
            "consumer": consumer,
            "ids": [event.id for event in events],
            "types": [event.type for event in events],
        },
    )
    return {row[0] for row in result}
