"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once.

Rows are claimed with `FOR UPDATE SKIP LOCKED`, sent with an idempotent
producer (acks=all) and marked sent in the same transaction. One relay per
schema is active at a time, which keeps the order of events per key when
replicas run: the leader holds a session advisory lock on its own connection,
and every batch runs in a transaction on that same connection that first
checks the lock is still held (fenced): a leader whose connection was lost,
and with it the lock, cannot publish another batch. NOTIFY only wakes the
relay early; the poll interval is the fallback, so a lost notification delays,
never loses.
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
from clearance_runtime.envelope import decode_headers
from clearance_runtime.pause import pause
from clearance_runtime.tracing import BILL_OF_ENTRY_ATTRIBUTE, carrier_of, context_from
from clearance_runtime.unit_of_work import outbox_channel

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

_CLAIM = (
    "SELECT id, topic, key, value, headers FROM outbox WHERE published_at IS NULL "
    "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
)
_MARK_SENT = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])"
# The relay lock is the pair (hashtext('clearance.outbox-relay'), hashtext(schema)).
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext('clearance.outbox-relay'), hashtext($1))"
_STILL_LEADER = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
    "AND pid = pg_backend_pid() AND granted AND objsubid = 2 "
    "AND classid::text::bigint = (hashtext('clearance.outbox-relay')::bigint & 4294967295) "
    "AND objid::text::bigint = (hashtext($1)::bigint & 4294967295))"
)


class LeadershipLost(Exception):
    """The relay no longer holds its schema's lock: it must not publish."""


_TRACE_HEADERS = ("traceparent", "tracestate")
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
            except LeadershipLost as error:
                log.warning("outbox relay stepped down: %s", error)
                await self._drop_listener()
            except Exception as error:
                log.warning("outbox relay retrying in %.1fs: %r", backoff, error)
                await self._drop_listener()
                await pause(stop, backoff)
                backoff = min(backoff * 2, 5.0)
        await self._drop_listener()

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows in id order; return how many.

        Runs on the leader's own connection, after checking it still holds the
        lock: the fence that keeps a deposed leader from publishing."""
        if not await self._lead():
            return 0
        conn = self._listener
        if conn is None or conn.is_closed():
            raise LeadershipLost("no leader connection")
        async with conn.transaction():
            if not await conn.fetchval(_STILL_LEADER, self.schema):
                self._leader = False
                raise LeadershipLost(f"the {self.schema} relay lock is no longer held")
            rows = await conn.fetch(_CLAIM, self.batch_size)
            if not rows:
                return 0
            deliveries = [await self._send(row) for row in rows]
            await asyncio.gather(*deliveries)
            await conn.execute(_MARK_SENT, [row["id"] for row in rows])
        metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(rows))
        return len(rows)

    async def _send(self, row: Any) -> asyncio.Future[Any]:
        raw_headers = row["headers"]
        headers = decode_headers(
            raw_headers if isinstance(raw_headers, list) else orjson.loads(raw_headers)
        )
        attrs = {name: value for name, value in headers if name in _TRACE_HEADERS}
        parent = context_from(
            attrs.get("traceparent", b"").decode(), attrs.get("tracestate", b"").decode()
        )
        key: str | None = row["key"]
        attributes = {"messaging.system": "kafka", "messaging.destination.name": row["topic"]}
        if key:
            attributes[BILL_OF_ENTRY_ATTRIBUTE] = key
        # One span per row, never made current (issue 18: the relay sends thousands a
        # second); the consumer's span continues from it.
        span = tracer.start_span(
            f"send {row['topic']}", context=parent, kind=SpanKind.PRODUCER, attributes=attributes
        )
        carrier = carrier_of(span, parent)
        span.end()
        if carrier:
            headers = [(n, v) for n, v in headers if n not in _TRACE_HEADERS]
            headers += [(name, value.encode()) for name, value in carrier.items()]
        value = row["value"]
        future: asyncio.Future[Any] = await self.producer.send(
            row["topic"],
            value=None if value is None else bytes(value),
            key=None if key is None else key.encode(),
            headers=headers,
        )
        return future

    async def _lead(self) -> bool:
        """Hold the schema's relay lock on a listening connection; True when leader.

        The lock lives as long as the connection: a relay that dies or loses
        the database hands leadership to a standby replica.
        """
        if self._listener is None or self._listener.is_closed():
            self._leader = False
            self._listener = await asyncpg.connect(
                self.listen_dsn, server_settings={"search_path": self.schema}
            )
            await self._listener.add_listener(
                outbox_channel(self.schema), lambda *_: self._wake.set()
            )
        if not self._leader:
            self._leader = bool(await self._listener.fetchval(_TRY_LOCK, self.schema))
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
