"""One transaction: the service's state change, its inbox claims and its outbox rows.

Events published through the unit of work are validated against their
contract, stamped with the active trace context, and written to the outbox in
the same transaction as the state that caused them (no dual write).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import orjson
from clearance_contracts import validate_event
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clearance_runtime.envelope import CloudEvent
from clearance_runtime.tracing import current_carrier

_INSERT_OUTBOX = text(
    "INSERT INTO outbox (event_id, topic, key, value, headers) "
    "VALUES (:event_id, :topic, :key, :value, CAST(:headers AS jsonb))"
)


def outbox_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel that wakes the schema's outbox relay."""
    return f"{schema}_outbox"


class UnitOfWork:
    """Handed to handlers: `session` for state, `defer` for writes, `publish` for events."""

    def __init__(self, session: AsyncSession, source: str) -> None:
        self.session = session
        self.source = source
        self._pending: list[CloudEvent] = []
        self._deferred: dict[TextClause, list[dict[str, Any]]] = {}
        self._before_commit: dict[str, Callable[[UnitOfWork], Awaitable[None]]] = {}
        # Handlers' own state for the length of this transaction (e.g. BEs touched).
        self.batch: dict[str, Any] = {}

    def defer(self, statement: TextClause, params: dict[str, Any]) -> None:
        """Run `statement` at commit, batched with the others like it (one executemany).

        For writes whose result the handler does not read. Each statement's rows
        run in the order deferred; different statements run in the order each
        was first deferred, so they must not depend on one another.
        """
        self._deferred.setdefault(statement, []).append(params)

    def before_commit(self, name: str, step: Callable[[UnitOfWork], Awaitable[None]]) -> None:
        """Run `step` once, after the batch's handlers and deferred writes, before
        the outbox is written: for work done once per batch rather than per event."""
        self._before_commit.setdefault(name, step)

    async def flush(self) -> None:
        """Run the deferred writes now (a handler about to read what they write)."""
        deferred, self._deferred = self._deferred, {}
        for statement, rows in deferred.items():
            await self.session.execute(statement, rows)

    def publish(self, event_type: str, subject: str, data: dict[str, Any]) -> CloudEvent:
        """Queue an event for the outbox; its topic is named after its type."""
        validate_event(event_type, data)
        event = CloudEvent.new(event_type, self.source, subject, data).with_trace(current_carrier())
        self._pending.append(event)
        return event

    @property
    def pending(self) -> tuple[CloudEvent, ...]:
        return tuple(self._pending)

    async def finish(self, channel: str) -> None:
        """At commit: deferred writes, once-per-batch steps, the outbox rows and the
        relay's wake-up."""
        await self.flush()
        steps, self._before_commit = self._before_commit, {}
        for step in steps.values():
            await step(self)
        await self.flush()
        if not self._pending:
            return
        rows = [
            {
                "event_id": event.id,
                "topic": event.type,
                "key": event.subject,
                "value": event.kafka_value(),
                "headers": orjson.dumps(
                    [(name, raw.decode()) for name, raw in event.kafka_headers()]
                ).decode(),
            }
            for event in self._pending
        ]
        await self.session.execute(_INSERT_OUTBOX, rows)
        await self.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})
        self._pending.clear()


UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[UnitOfWork]]


def unit_of_work_factory(
    sessions: async_sessionmaker[AsyncSession], source: str, schema: str
) -> UnitOfWorkFactory:
    """`async with factory() as uow:` commits state and outbox together, or neither."""
    channel = outbox_channel(schema)

    @asynccontextmanager
    async def unit_of_work() -> AsyncIterator[UnitOfWork]:
        async with sessions() as session, session.begin():
            uow = UnitOfWork(session, source)
            yield uow
            await uow.finish(channel)

    return unit_of_work
