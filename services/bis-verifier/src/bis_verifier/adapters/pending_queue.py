"""The queue of BE versions waiting for the registry, as the verification worker reads it.

Claims lease due rows with `FOR UPDATE SKIP LOCKED` in a short transaction of
their own (replicas share the work; a worker that dies mid-pass loses its lease
and the row falls due again). A LISTEN connection wakes the worker when a
version is parked (NOTIFY at the parking commit); the poll interval is the
fallback, so a lost notification delays, never loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from clearance_domain import BillOfEntryRef
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bis_verifier.adapters.repository import PENDING_CHANNEL
from bis_verifier.domain.registry import Lookup, LookupKind
from bis_verifier.service_layer import metrics
from bis_verifier.service_layer.unit_of_work import PendingVerification

log = logging.getLogger(__name__)

_CLAIM = text(
    "WITH due AS (SELECT id FROM bis_pending WHERE state = 'pending' "
    "AND next_attempt_at <= :now AND (lease_until IS NULL OR lease_until <= :now) "
    "ORDER BY next_attempt_at, id LIMIT :limit FOR UPDATE SKIP LOCKED) "
    "UPDATE bis_pending p SET attempts = p.attempts + 1, lease_until = :lease_until "
    "FROM due WHERE p.id = due.id RETURNING p.id, p.port_code, p.be_no, p.be_date, p.version, "
    "p.bill_of_entry, p.lookups, p.attempts, p.pending_since, p.announced, p.traceparent, "
    "p.tracestate"
)
_NEXT_DUE = text(
    "SELECT min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at))) "
    "FROM bis_pending WHERE state = 'pending'"
)
_COUNTS = text(
    "SELECT count(*) FILTER (WHERE attempts = 0) AS queued, "
    "count(*) FILTER (WHERE attempts > 0) AS retrying, min(pending_since) AS oldest "
    "FROM bis_pending WHERE state = 'pending'"
)


class SqlPendingQueue:
    def __init__(self, engine: AsyncEngine, listen_dsn: str, service: str) -> None:
        self.engine = engine
        self.listen_dsn = listen_dsn
        self.service = service
        self._wake = asyncio.Event()
        self._listener: Any = None

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[PendingVerification]:
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(_CLAIM, {"now": now, "limit": limit, "lease_until": now + lease})
            ).all()
        return [_claim(row) for row in sorted(rows, key=lambda r: r.id)]

    async def next_due(self) -> datetime | None:
        async with self.engine.connect() as conn:
            due: datetime | None = (await conn.execute(_NEXT_DUE)).scalar_one()
        return due

    async def wait_for_wake_up(self, timeout_s: float) -> None:
        await self._listen()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout_s)
        self._wake.clear()

    async def report(self, now: datetime) -> None:
        """The pending gauges (run periodically)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(_COUNTS)).one()
        metrics.PENDING.labels(self.service, "queued").set(row.queued)
        metrics.PENDING.labels(self.service, "retrying").set(row.retrying)
        oldest = 0.0 if row.oldest is None else max((now - row.oldest).total_seconds(), 0.0)
        metrics.PENDING_AGE.labels(self.service).set(oldest)

    async def _listen(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            self._listener = await asyncpg.connect(self.listen_dsn)
            await self._listener.add_listener(PENDING_CHANNEL, lambda *_: self._wake.set())
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("cannot LISTEN for parked verifications (polling): %r", error)
            self._listener = None

    async def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=2)
        self._listener = None


def _claim(row: Any) -> PendingVerification:
    carrier = {}
    if row.traceparent:
        carrier["traceparent"] = row.traceparent
        if row.tracestate:
            carrier["tracestate"] = row.tracestate
    return PendingVerification(
        id=row.id,
        ref=BillOfEntryRef(row.port_code, row.be_no, row.be_date, row.version),
        bill_of_entry=row.bill_of_entry,
        lookups=tuple(Lookup(LookupKind(x["kind"]), x["number"]) for x in row.lookups),
        attempt=row.attempts,
        pending_since=row.pending_since,
        announced=row.announced,
        carrier=carrier,
    )
