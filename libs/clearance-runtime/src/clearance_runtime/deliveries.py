"""Outbound delivery: calls to outside parties, never inside a consumer's transaction.

A handler asks for a delivery with `uow.deliver(destination, kind, payload)`:
a row in the `delivery` table, committed with the state that caused it. The
`DeliveryWorker` claims due rows with `FOR UPDATE SKIP LOCKED`, takes a lease on
them and commits, makes the call outside any transaction, then records the
attempt (`delivery_attempt`) and the outcome: delivered, or retried later with
exponential backoff. Deliveries to one destination go in order (the oldest
undelivered one first), so a destination that keeps failing is probed by one
delivery at a time until it answers, and its backlog then flows in order. A
lease that expires (a worker that died mid-call) makes the delivery due again;
the receiver drops the repeat by its delivery id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clearance_runtime import metrics
from clearance_runtime.clock import Clock
from clearance_runtime.pause import pause
from clearance_runtime.tracing import context_from

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

_DUE = (
    "SELECT d.id FROM delivery d {heads} WHERE d.state = 'pending' "
    "AND d.next_attempt_at <= :now AND (d.lease_until IS NULL OR d.lease_until <= :now) "
    "ORDER BY d.id LIMIT :limit FOR UPDATE OF d SKIP LOCKED"
)
# The oldest undelivered delivery of each destination: only it may be attempted.
_HEADS = (
    "JOIN (SELECT DISTINCT ON (destination) id FROM delivery WHERE state = 'pending' "
    "ORDER BY destination, id) AS heads USING (id)"
)
_LEASE = text(
    "UPDATE delivery SET lease_until = :lease_until, attempts = attempts + 1 "
    "WHERE id = ANY(:ids) RETURNING id, delivery_id, destination, kind, payload, attempts, "
    "created_at, traceparent, tracestate"
)
_ATTEMPT = text(
    "INSERT INTO delivery_attempt (delivery_id, attempt, at, outcome, status_code, error, "
    "duration_ms) VALUES (:delivery_id, :attempt, :at, :outcome, :status_code, :error, "
    ":duration_ms) ON CONFLICT DO NOTHING"
)
# Guarded by the attempt number: a worker whose lease ran out records nothing.
_OUTCOME = text(
    "UPDATE delivery SET state = :state, next_attempt_at = :next_at, lease_until = NULL, "
    "last_error = :error, delivered_at = :delivered_at WHERE id = :id AND attempts = :attempt"
)
_BACKLOG = text(
    "SELECT destination, count(*) AS pending, max(attempts) AS attempts FROM delivery "
    "WHERE state = 'pending' GROUP BY destination"
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery being attempted (`attempt` counts this one)."""

    id: int
    delivery_id: str
    destination: str
    kind: str
    payload: Mapping[str, Any]
    attempt: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    # False: the receiver will never take it; stop trying (state 'failed').
    retry: bool = True


Sender = Callable[[Delivery], Awaitable[DeliveryResult]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff between attempts, capped."""

    first_s: float = 1.0
    factor: float = 2.0
    max_s: float = 300.0

    def after(self, attempt: int) -> timedelta:
        return timedelta(seconds=min(self.first_s * self.factor ** (attempt - 1), self.max_s))


class DeliveryWorker:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        senders: Mapping[str, Sender],
        clock: Clock,
        backoff: Backoff | None = None,
        max_attempts: int | None = None,
        ordered: bool = True,
        lease_s: float = 60.0,
        batch_size: int = 50,
        poll_interval_s: float = 0.5,
        call_timeout_s: float = 10.0,
    ) -> None:
        self.service = service
        self.engine = engine
        self.senders = senders
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self.lease_s = lease_s
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.call_timeout_s = call_timeout_s
        self._due = text(_DUE.format(heads=_HEADS if ordered else ""))
        self._last_backlog = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop`; a database outage is waited out."""
        backoff = 0.2
        while not stop.is_set():
            try:
                attempted = await self.deliver_due()
                backoff = 0.2
                await self._report_backlog()
                if attempted < self.batch_size:
                    await pause(stop, self.poll_interval_s)
            except Exception as error:
                log.warning("delivery worker retrying in %.1fs: %r", backoff, error)
                await pause(stop, backoff)
                backoff = min(backoff * 2, 5.0)

    async def deliver_due(self) -> int:
        """Attempt every delivery due now (one batch, concurrently); return how many."""
        claimed = await self._claim()
        await asyncio.gather(*(self._attempt(delivery) for delivery in claimed))
        return len(claimed)

    async def _claim(self) -> list[tuple[Delivery, str | None, str | None]]:
        now = self.clock.now()
        async with self.engine.begin() as conn:
            ids = [
                row.id
                for row in await conn.execute(self._due, {"now": now, "limit": self.batch_size})
            ]
            if not ids:
                return []
            lease_until = now + timedelta(seconds=self.lease_s)
            rows = await conn.execute(_LEASE, {"ids": ids, "lease_until": lease_until})
            return [
                (
                    Delivery(
                        row.id,
                        row.delivery_id,
                        row.destination,
                        row.kind,
                        row.payload,
                        row.attempts,
                        row.created_at,
                    ),
                    row.traceparent,
                    row.tracestate,
                )
                for row in rows
            ]

    async def _attempt(self, claimed: tuple[Delivery, str | None, str | None]) -> None:
        delivery, traceparent, tracestate = claimed
        started = time.monotonic()
        with tracer.start_as_current_span(
            f"deliver {delivery.kind}",
            context=context_from(traceparent, tracestate),
            kind=SpanKind.PRODUCER,
            attributes={
                "clearance.delivery.destination": delivery.destination,
                "clearance.delivery.attempt": delivery.attempt,
            },
        ):
            result = await self._call(delivery)
        await self._record(delivery, result, int((time.monotonic() - started) * 1000))

    async def _call(self, delivery: Delivery) -> DeliveryResult:
        sender = self.senders.get(delivery.kind)
        if sender is None:
            return DeliveryResult(False, error=f"no sender for {delivery.kind!r}", retry=False)
        try:
            async with asyncio.timeout(self.call_timeout_s):
                return await sender(delivery)
        except Exception as error:  # the outside party's failure, not ours
            return DeliveryResult(False, error=f"{type(error).__name__}: {error}")

    async def _record(self, delivery: Delivery, result: DeliveryResult, duration_ms: int) -> None:
        now = self.clock.now()
        exhausted = self.max_attempts is not None and delivery.attempt >= self.max_attempts
        if result.delivered:
            state, outcome = "delivered", "delivered"
        elif not result.retry or exhausted:
            state, outcome = "failed", "failed"
        else:
            state, outcome = "pending", "retry"
        async with self.engine.begin() as conn:
            await conn.execute(
                _ATTEMPT,
                {
                    "delivery_id": delivery.delivery_id,
                    "attempt": delivery.attempt,
                    "at": now,
                    "outcome": outcome,
                    "status_code": result.status_code,
                    "error": result.error,
                    "duration_ms": duration_ms,
                },
            )
            await conn.execute(
                _OUTCOME,
                {
                    "id": delivery.id,
                    "attempt": delivery.attempt,
                    "state": state,
                    "next_at": now + self.backoff.after(delivery.attempt),
                    "error": result.error,
                    "delivered_at": now if result.delivered else None,
                },
            )
        metrics.DELIVERIES.labels(self.service, delivery.kind, outcome).inc()

    async def _report_backlog(self) -> None:
        now = time.monotonic()
        if now - self._last_backlog < 2.0:
            return
        self._last_backlog = now
        with contextlib.suppress(Exception):
            async with self.engine.connect() as conn:
                rows = (await conn.execute(_BACKLOG)).all()
            metrics.DELIVERY_BACKLOG.clear()
            for row in rows:
                metrics.DELIVERY_BACKLOG.labels(self.service, row.destination).set(row.pending)


def http_json_sender(
    client: httpx.AsyncClient,
    url_of: Callable[[Delivery], str | None],
    headers_of: Callable[[Delivery, bytes], Mapping[str, str]] | None = None,
) -> Sender:
    """A sender that POSTs the payload as JSON with an `Idempotency-Key` (the
    delivery id); 2xx is delivered, anything else is retried. `headers_of` adds
    headers computed from the body (a signature)."""
    import orjson

    async def send(delivery: Delivery) -> DeliveryResult:
        url = url_of(delivery)
        if url is None:
            return DeliveryResult(False, error=f"no endpoint known for {delivery.destination}")
        body = orjson.dumps(dict(delivery.payload))
        headers = {"content-type": "application/json", "idempotency-key": delivery.delivery_id}
        if headers_of is not None:
            headers.update(headers_of(delivery, body))
        response = await client.post(url, content=body, headers=headers)
        ok = 200 <= response.status_code < 300
        return DeliveryResult(ok, response.status_code, None if ok else response.text[:500])

    return send
