"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once.

Rows are claimed with `FOR UPDATE SKIP LOCKED`, sent with an idempotent
producer (acks=all) and marked sent in the same transaction. One relay per
schema is active at a time (a session advisory lock), which keeps the order of
events per key when replicas run. NOTIFY only wakes the relay early; the poll
interval is the fallback, so a lost notification delays, never loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clearance_runtime import metrics
from clearance_runtime.pause import pause
from clearance_runtime.tracing import BILL_OF_ENTRY_ATTRIBUTE, context_from, current_carrier
from clearance_runtime.unit_of_work import outbox_channel

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

_CLAIM = text(
    "SELECT id, topic, key, value, headers FROM outbox WHERE published_at IS NULL "
    "ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED"
)
_MARK_SENT = text("UPDATE outbox SET published_at = now() WHERE id = ANY(:ids)")
_BACKLOG = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
_PURGE = text("DELETE FROM outbox WHERE published_at < now() - make_interval(secs => :retention)")


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        schema: str,
        engine: AsyncEngine,
        listen_dsn: str,
        producer: AIOKafkaProducer,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        retention_s: int = 3600,
    ) -> None:
        self.service = service
        self.schema = schema
        self.engine = engine
        self.listen_dsn = listen_dsn
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.retention_s = retention_s
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._leader = False
        self._last_housekeeping = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set. Nothing stops the relay but `stop`: any error
        (database or broker away, mostly) is logged and the batch retried later."""
        backoff = 0.2
        while not stop.is_set():
            try:
                if not await self._lead():
                    await pause(stop, self.poll_interval_s)
                    continue
                sent = await self.relay_once()
                backoff = 0.2
                if sent >= self.batch_size:
                    continue  # more waiting: no pause
                await self._housekeeping()
                await self._sleep_until_woken(stop)
            except Exception as error:
                log.warning("outbox relay retrying in %.1fs: %r", backoff, error)
                await self._drop_listener()
                await pause(stop, backoff)
                backoff = min(backoff * 2, 5.0)
        await self._drop_listener()

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows in id order; return how many."""
        async with self.engine.begin() as conn:
            rows = (await conn.execute(_CLAIM, {"limit": self.batch_size})).all()
            if not rows:
                return 0
            deliveries = [await self._send(row) for row in rows]
            await asyncio.gather(*deliveries)
            await conn.execute(_MARK_SENT, {"ids": [row.id for row in rows]})
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    async def _send(self, row: Any) -> asyncio.Future[Any]:
        headers = row.headers if isinstance(row.headers, list) else orjson.loads(row.headers)
        attrs = dict(headers)
        parent = context_from(attrs.get("traceparent"), attrs.get("tracestate"))
        with tracer.start_as_current_span(
            f"send {row.topic}", context=parent, kind=SpanKind.PRODUCER
        ) as span:
            span.set_attribute("messaging.system", "kafka")
            span.set_attribute("messaging.destination.name", row.topic)
            span.set_attribute(BILL_OF_ENTRY_ATTRIBUTE, row.key)
            # The consumer's span continues from this send span.
            attrs.update(current_carrier())
        kafka_headers = [(name, value.encode()) for name, value in attrs.items()]
        future: asyncio.Future[Any] = await self.producer.send(
            row.topic, value=bytes(row.value), key=row.key.encode(), headers=kafka_headers
        )
        return future

    async def _lead(self) -> bool:
        """Hold the schema's relay lock on a listening connection; True when leader.

        The lock lives as long as the connection: a relay that dies or loses
        the database hands leadership to a standby replica.
        """
        if self._listener is None or self._listener.is_closed():
            self._leader = False
            self._listener = await asyncpg.connect(self.listen_dsn)
            await self._listener.add_listener(
                outbox_channel(self.schema), lambda *_: self._wake.set()
            )
        if not self._leader:
            self._leader = await self._listener.fetchval(
                "SELECT pg_try_advisory_lock(hashtext($1))", f"{self.schema}.outbox-relay"
            )
        return self._leader

    async def _drop_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=2)
        self._listener = None
        self._leader = False

    async def _sleep_until_woken(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            stopping = asyncio.ensure_future(stop.wait())
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait(
                    {stopping, woken},
                    timeout=self.poll_interval_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                stopping.cancel()
                woken.cancel()
        self._wake.clear()

    async def _housekeeping(self) -> None:
        """At most once a second: backlog gauge, and purge of old sent rows."""
        now = time.monotonic()
        if now - self._last_housekeeping < 1.0:
            return
        self._last_housekeeping = now
        async with self.engine.begin() as conn:
            backlog = (await conn.execute(_BACKLOG)).scalar_one()
            await conn.execute(_PURGE, {"retention": self.retention_s})
        metrics.OUTBOX_BACKLOG.labels(self.service).set(backlog)
