"""One transaction: the service's state change, its inbox claims, its outbox rows,
the timers it sets and the deliveries it asks for.

Handlers see the `UnitOfWork` protocol; services run them on `SqlUnitOfWork`
(PostgreSQL, one transaction) and unit-test them on
`clearance_runtime.testing.FakeUnitOfWork`. Events published through a unit of
work are validated against their contract, stamped with the active trace
context, and written to the outbox in the same transaction as the state that
caused them (no dual write); so are dead letters, timers and deliveries.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar

import orjson
from clearance_contracts import ContractViolation, event_key, validate_event
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clearance_runtime.clock import Clock, SystemClock
from clearance_runtime.envelope import CloudEvent, encode_headers
from clearance_runtime.tracing import continuing, current_carrier

# One statement per batch, whatever its number of events (issue 18); rows get their ids
# (the relay's order) in the order they were published.
_INSERT_OUTBOX = text(
    "INSERT INTO outbox (event_id, topic, key, value, headers) "
    "SELECT k.event_id, k.topic, k.key, k.value, CAST(k.headers AS jsonb) "
    "FROM unnest(CAST(:event_id AS text[]), CAST(:topic AS text[]), CAST(:key AS text[]), "
    "CAST(:value AS bytea[]), CAST(:headers AS text[])) "
    "WITH ORDINALITY AS k(event_id, topic, key, value, headers, n) ORDER BY k.n "
    "ON CONFLICT (event_id) DO NOTHING"
)
# Timers set and cancelled by a batch: one statement each (`defer_rows`).
_SCHEDULE = text(
    "INSERT INTO due_work (kind, key, due_at, payload, traceparent, tracestate) "
    "SELECT k.kind, k.key, k.due_at, CAST(k.payload AS jsonb), k.traceparent, k.tracestate "
    "FROM unnest(CAST(:kind AS text[]), CAST(:key AS text[]), CAST(:due_at AS timestamptz[]), "
    "CAST(:payload AS text[]), CAST(:traceparent AS text[]), CAST(:tracestate AS text[])) "
    "WITH ORDINALITY AS k(kind, key, due_at, payload, traceparent, tracestate, n) "
    "ORDER BY k.n ON CONFLICT (kind, key) DO UPDATE SET due_at = EXCLUDED.due_at, "
    "payload = EXCLUDED.payload, traceparent = EXCLUDED.traceparent, "
    "tracestate = EXCLUDED.tracestate, fired_at = NULL, cancelled_at = NULL, "
    "failed_at = NULL, last_error = NULL"
)
_CANCEL = text(
    "UPDATE due_work d SET cancelled_at = k.at FROM unnest(CAST(:kind AS text[]), "
    "CAST(:key AS text[]), CAST(:at AS timestamptz[])) AS k(kind, key, at) "
    "WHERE d.kind = k.kind AND d.key = k.key AND d.fired_at IS NULL AND d.cancelled_at IS NULL"
)
_DELIVER = text(
    "INSERT INTO delivery (delivery_id, destination, kind, payload, next_attempt_at, "
    "traceparent, tracestate) VALUES (:delivery_id, :destination, :kind, "
    "CAST(:payload AS jsonb), :at, :traceparent, :tracestate) "
    "ON CONFLICT (delivery_id) DO NOTHING"
)

Step = Callable[[Any], Awaitable[None]]
# Items gathered from the batch's handlers, each with the trace context it came in.
Collected = list[tuple[Any, dict[str, str]]]
BatchStep = Callable[[Any, Collected], Awaitable[None]]


class HasEvents(Protocol):
    """An aggregate that records the events it causes (`events`), for the unit
    of work to hand to the outbox at commit."""

    events: list[Any]


class UnitOfWork(Protocol):
    """What a handler may do within one transaction, whatever stores it."""

    clock: Clock
    batch: dict[str, Any]

    def publish(
        self, event_type: str, subject: str, data: dict[str, Any], *, topic: str | None = None
    ) -> CloudEvent:
        """Queue an event for the outbox (topic: the event type, unless given)."""
        ...

    def before_commit(self, name: str, step: Step) -> None:
        """Run `step(uow)` once, after the batch's handlers, before the outbox is written."""
        ...

    def collect(self, name: str, item: Any, step: BatchStep) -> None:
        """Gather `item` (with the current trace context) for `step(uow, items)`, run
        once before commit with every item of the batch, in order: for work done once
        per batch (one read and one write for all the BEs it touched)."""
        ...

    def schedule(
        self, kind: str, key: str, due_at: datetime, payload: Mapping[str, Any] | None = None
    ) -> None:
        """Do `kind` for `key` at `due_at` (a timer; scheduling again moves it)."""
        ...

    def cancel(self, kind: str, key: str) -> None:
        """The timer `kind` for `key` will not fire (Y happened before T)."""
        ...

    def deliver(
        self,
        destination: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        delivery_id: str | None = None,
    ) -> str:
        """Ask the delivery worker to send `payload` to an outside party; its id."""
        ...

    def track(self, aggregate: HasEvents, carrier: Mapping[str, str] | None = None) -> None:
        """Collect the aggregate's recorded events at commit (`render_events`), in the
        trace of `carrier` (the trace context of the fact that caused them)."""
        ...


class BaseUnitOfWork:
    """The parts every unit of work shares: publishing, steps, aggregates."""

    def __init__(
        self,
        source: str,
        clock: Clock | None = None,
        render_events: Callable[[Any, Any], None] | None = None,
    ) -> None:
        self.source = source
        self.clock: Clock = clock or SystemClock()
        self.batch: dict[str, Any] = {}
        self._pending: list[tuple[str, CloudEvent]] = []
        self._before_commit: dict[str, Step] = {}
        self._tracked: list[tuple[HasEvents, Mapping[str, str] | None]] = []
        self._tracked_ids: set[int] = set()  # of the aggregates in `_tracked` (held there)
        self._render_events = render_events

    def publish(
        self, event_type: str, subject: str, data: dict[str, Any], *, topic: str | None = None
    ) -> CloudEvent:
        validate_event(event_type, data)
        key = event_key(event_type, data)
        if key != subject:
            raise ContractViolation(event_type, "$", f"subject {subject!r} is not its key {key!r}")
        event = CloudEvent.new(event_type, self.source, subject, data, time=self.clock.now())
        event = event.with_trace(current_carrier())
        self._pending.append((topic or event_type, event))
        return event

    @property
    def pending(self) -> tuple[CloudEvent, ...]:
        return tuple(event for _, event in self._pending)

    def before_commit(self, name: str, step: Step) -> None:
        self._before_commit.setdefault(name, step)

    def collect(self, name: str, item: Any, step: BatchStep) -> None:
        items: Collected = self.batch.setdefault(name, [])
        items.append((item, current_carrier()))

        async def run(uow: Any) -> None:
            await step(uow, uow.batch.pop(name, []))

        self.before_commit(name, run)

    def track(self, aggregate: HasEvents, carrier: Mapping[str, str] | None = None) -> None:
        if id(aggregate) not in self._tracked_ids:  # a set: a batch tracks hundreds
            self._tracked_ids.add(id(aggregate))
            self._tracked.append((aggregate, carrier))

    async def _run_steps(self) -> None:
        steps, self._before_commit = self._before_commit, {}
        for step in steps.values():
            await step(self)

    def _collect_events(self) -> None:
        """Hand every tracked aggregate's recorded events to `render_events`."""
        tracked, self._tracked = self._tracked, []
        self._tracked_ids = set()
        for aggregate, carrier in tracked:
            if not aggregate.events:
                continue
            if self._render_events is None:
                raise RuntimeError("an aggregate recorded events but no renderer is wired")
            with continuing(carrier):
                while aggregate.events:
                    self._render_events(self, aggregate.events.pop(0))


class SqlUnitOfWork(BaseUnitOfWork):
    """The unit of work on PostgreSQL: `session` for the service's repositories,
    `defer` to batch writes into one executemany at commit."""

    def __init__(
        self,
        session: AsyncSession,
        source: str,
        clock: Clock | None = None,
        render_events: Callable[[Any, Any], None] | None = None,
    ) -> None:
        super().__init__(source, clock, render_events)
        self.session = session
        self._deferred: dict[TextClause, list[dict[str, Any]]] = {}
        self._columnar: set[TextClause] = set()
        self._keyed: dict[tuple[TextClause, Any], int] = {}
        self._dead_letters: list[dict[str, Any]] = []

    def defer(self, statement: TextClause, params: dict[str, Any]) -> None:
        """Run `statement` at commit, batched with the others like it (one executemany).

        For writes whose result the handler does not read. Each statement's rows
        run in the order deferred; different statements run in the order each
        was first deferred, so they must not depend on one another.
        """
        self._deferred.setdefault(statement, []).append(params)

    def defer_rows(self, statement: TextClause, row: dict[str, Any], *, key: Any = None) -> None:
        """Like `defer`, but all the rows deferred run as ONE statement (issue 18): at
        flush, each parameter of `statement` is the list of its values over the rows, in
        the order deferred, for the statement to read as arrays (`unnest(CAST(:name AS
        type[]), ...) WITH ORDINALITY`). Every row has the same parameter names.

        A row with the `key` of a row still waiting replaces that row (in its place): an
        upsert of one key twice in a batch, which one statement could not do, keeps the
        last values, as two statements in a row would."""
        rows = self._deferred.setdefault(statement, [])
        self._columnar.add(statement)
        if key is not None:
            at = self._keyed.get((statement, key))
            if at is not None:
                rows[at] = row
                return
            self._keyed[(statement, key)] = len(rows)
        rows.append(row)

    async def flush(self) -> None:
        """Run the deferred writes now (a handler about to read what they write)."""
        deferred, self._deferred = self._deferred, {}
        self._keyed = {}
        for statement, rows in deferred.items():
            if statement in self._columnar:
                await self.session.execute(statement, columns(rows))
            else:
                await self.session.execute(statement, rows)

    def schedule(
        self, kind: str, key: str, due_at: datetime, payload: Mapping[str, Any] | None = None
    ) -> None:
        carrier = current_carrier()
        self.defer_rows(
            _SCHEDULE,
            {
                "kind": kind,
                "key": key,
                "due_at": due_at,
                "payload": orjson.dumps(dict(payload or {})).decode(),
                "traceparent": carrier.get("traceparent"),
                "tracestate": carrier.get("tracestate"),
            },
            key=(kind, key),
        )

    def cancel(self, kind: str, key: str) -> None:
        self.defer_rows(
            _CANCEL, {"kind": kind, "key": key, "at": self.clock.now()}, key=(kind, key)
        )

    def deliver(
        self,
        destination: str,
        kind: str,
        payload: Mapping[str, Any],
        *,
        delivery_id: str | None = None,
    ) -> str:
        delivery_id = delivery_id or str(uuid.uuid4())
        carrier = current_carrier()
        self.defer(
            _DELIVER,
            {
                "delivery_id": delivery_id,
                "destination": destination,
                "kind": kind,
                "payload": orjson.dumps(dict(payload)).decode(),
                "at": self.clock.now(),
                "traceparent": carrier.get("traceparent"),
                "tracestate": carrier.get("tracestate"),
            },
        )
        return delivery_id

    def dead_letter(
        self,
        *,
        dead_letter_id: str,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> None:
        """Write a record to a dead-letter topic through the outbox, once per id
        (a record dead-lettered again after a rewind is not sent twice)."""
        self._dead_letters.append(
            {
                "event_id": dead_letter_id,
                "topic": topic,
                "key": None if key is None else key.decode("utf-8", "replace"),
                "value": value,
                "headers": orjson.dumps(encode_headers(headers)).decode(),
            }
        )

    async def finish(self, channel: str) -> None:
        """At commit: deferred writes, once-per-batch steps, aggregates' events,
        the outbox rows and the relay's wake-up."""
        await self.flush()
        await self._run_steps()
        self._collect_events()
        await self.flush()
        rows = [*self._dead_letters, *(_outbox_row(topic, event) for topic, event in self._pending)]
        if not rows:
            return
        await self.session.execute(_INSERT_OUTBOX, columns(rows))
        await self.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel})
        self._pending.clear()
        self._dead_letters.clear()


def columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Rows of the same parameters as one list per parameter (to bind as arrays)."""
    return {name: [row[name] for row in rows] for name in rows[0]}


def _outbox_row(topic: str, event: CloudEvent) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "topic": topic,
        "key": event.subject,
        "value": event.kafka_value(),
        "headers": orjson.dumps(encode_headers(event.kafka_headers())).decode(),
    }


def outbox_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel that wakes the schema's outbox relay."""
    return f"{schema}_outbox"


U = TypeVar("U", bound=SqlUnitOfWork)
UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[U]]


def unit_of_work_factory(
    sessions: async_sessionmaker[AsyncSession],
    source: str,
    schema: str,
    *,
    clock: Clock | None = None,
    kind: Callable[..., U] = SqlUnitOfWork,  # type: ignore[assignment]
    render_events: Callable[[Any, Any], None] | None = None,
) -> Callable[[], AbstractAsyncContextManager[U]]:
    """`async with factory() as uow:` commits state and outbox together, or neither.

    `kind` is the service's unit of work (a `SqlUnitOfWork` with its repositories).
    """
    channel = outbox_channel(schema)
    shared_clock = clock or SystemClock()

    @asynccontextmanager
    async def unit_of_work() -> AsyncIterator[U]:
        async with sessions() as session, session.begin():
            uow = kind(session, source, shared_clock, render_events)
            yield uow
            await uow.finish(channel)

    return unit_of_work
