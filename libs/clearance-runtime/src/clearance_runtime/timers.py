"""Timers as rows: "do X at time T unless Y happened", exactly once, surviving restarts.

A handler sets a timer with `uow.schedule(kind, key, due_at, payload)` (and
calls it off with `uow.cancel(kind, key)`) in its own transaction. The
`TimerWorker` claims due rows with `FOR UPDATE SKIP LOCKED` (so replicas share
them), runs the handler of their kind in a unit of work, and marks them fired
in that same transaction: the effect and the firing commit together, once.
"Now" is the injected clock, so a test that moves the clock by a month sees
the month's timers fire at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clearance_runtime import metrics
from clearance_runtime.clock import Clock, ControllableClock
from clearance_runtime.consumer import database_answers, is_rollback
from clearance_runtime.pause import pause
from clearance_runtime.tracing import BILL_OF_ENTRY_ATTRIBUTE, context_from
from clearance_runtime.unit_of_work import U

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

_CLAIM = text(
    "SELECT id, kind, key, due_at, payload, traceparent, tracestate FROM due_work "
    "WHERE due_at <= :now AND fired_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL "
    "ORDER BY due_at, id LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_CLAIM_ONE = text(
    "SELECT id, kind, key, due_at, payload, traceparent, tracestate FROM due_work "
    "WHERE id = :id AND fired_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL "
    "FOR UPDATE SKIP LOCKED"
)
_FIRED = text("UPDATE due_work SET fired_at = :at WHERE id = ANY(:ids)")
_FAILED = text("UPDATE due_work SET failed_at = :at, last_error = :error WHERE id = :id")
_NEXT_DUE = text(
    "SELECT min(due_at) FROM due_work "
    "WHERE fired_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL"
)


@dataclass(frozen=True, slots=True)
class Timer:
    """A timer that fell due: what to do (`kind`), about what (`key`), with what."""

    id: int
    kind: str
    key: str
    due_at: datetime
    payload: Mapping[str, Any]


TimerHandler = Callable[[Timer, Any], Awaitable[None]]


class TimerWorker(Generic[U]):
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        unit_of_work: Callable[[], contextlib.AbstractAsyncContextManager[U]],
        handlers: Mapping[str, TimerHandler],
        clock: Clock,
        batch_size: int = 100,
        poll_interval_s: float = 1.0,
        max_attempts: int = 3,
    ) -> None:
        self.service = service
        self.engine = engine
        self.unit_of_work = unit_of_work
        self.handlers = handlers
        self.clock = clock
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()
        if isinstance(clock, ControllableClock):
            clock.on_change(self._wake.set)

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Fire due timers until `stop`; an outage is waited out, never lost."""
        backoff = 0.2
        while not stop.is_set():
            try:
                fired = await self.fire_due()
                backoff = 0.2
                if fired >= self.batch_size:
                    continue
                await self._sleep(stop)
            except Exception as error:
                log.warning("timer worker retrying in %.1fs: %r", backoff, error)
                await pause(stop, backoff)
                backoff = min(backoff * 2, 5.0)

    async def fire_due(self) -> int:
        """Fire the timers due now (one batch); return how many fired or failed."""
        try:
            return await self._fire_batch(_CLAIM, self._claim_params())
        except Exception as error:
            if is_rollback(error) or not await database_answers(self.engine):
                raise
            log.warning("a timer of the batch failed; firing them one by one: %r", error)
        async with self.engine.connect() as conn:
            ids = [row.id for row in await conn.execute(_CLAIM, self._claim_params())]
        for timer_id in ids:
            await self._fire_alone(timer_id)
        return len(ids)

    async def _fire_batch(self, claim: Any, params: dict[str, Any]) -> int:
        async with self.unit_of_work() as uow:
            rows = (await uow.session.execute(claim, params)).all()
            for row in rows:
                await self._fire(row, uow)
            if rows:
                await uow.session.execute(
                    _FIRED, {"at": self.clock.now(), "ids": [row.id for row in rows]}
                )
        for row in rows:
            metrics.TIMERS_FIRED.labels(self.service, row.kind, "fired").inc()
        return len(rows)

    async def _fire_alone(self, timer_id: int) -> None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._fire_batch(_CLAIM_ONE, {"id": timer_id})
                return
            except Exception as error:
                if is_rollback(error) or not await database_answers(self.engine):
                    raise
                if attempt == self.max_attempts:
                    await self._mark_failed(timer_id, error)
                    return
                await asyncio.sleep(0.2 * attempt)

    async def _mark_failed(self, timer_id: int, error: Exception) -> None:
        """A timer whose handler keeps failing is set aside with the error, for an
        operator, instead of blocking the ones behind it."""
        log.error("timer %s failed for good: %r", timer_id, error)
        async with self.engine.begin() as conn:
            await conn.execute(
                _FAILED,
                {
                    "at": self.clock.now(),
                    "error": f"{type(error).__name__}: {error}",
                    "id": timer_id,
                },
            )
        metrics.TIMERS_FIRED.labels(self.service, "unknown", "failed").inc()

    async def _fire(self, row: Any, uow: U) -> None:
        timer = Timer(row.id, row.kind, row.key, row.due_at, row.payload or {})
        handler = self.handlers.get(timer.kind)
        if handler is None:
            raise LookupError(f"no handler for timers of kind {timer.kind!r}")
        with tracer.start_as_current_span(
            f"timer {timer.kind}",
            context=context_from(row.traceparent, row.tracestate),
            kind=SpanKind.CONSUMER,
            attributes={BILL_OF_ENTRY_ATTRIBUTE: timer.key, "clearance.timer.kind": timer.kind},
        ):
            await handler(timer, uow)

    def _claim_params(self) -> dict[str, Any]:
        return {"now": self.clock.now(), "limit": self.batch_size}

    async def _sleep(self, stop: asyncio.Event) -> None:
        """Until the next timer falls due, the poll interval passes, or the clock moves."""
        async with self.engine.connect() as conn:
            next_due = (await conn.execute(_NEXT_DUE)).scalar_one()
        wait = self.poll_interval_s
        if next_due is not None:
            wait = max(0.0, min(wait, (next_due - self.clock.now()).total_seconds()))
        stopping = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopping, woken}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            woken.cancel()
        self._wake.clear()
