"""The Kafka consumer loop every service runs.

Per fetch: parse and check each record (unreadable, unexpected, contract-breaking
or mis-keyed records are dead-lettered with the reason), then handle the valid
ones in one database transaction per partition number that also claims their
ids in the inbox and writes the dead letters through the outbox; commit the
Kafka offsets only after that transaction commits, and only for partitions
still ours. Partitions are handled concurrently, each sequentially, so order
per BE holds.

Failures: a deadlock or serialization failure retries the batch; any other
error is first checked against the database: if the database does not answer,
it is an outage and the batch waits for it (never dead-lettered); if it does,
the error belongs to the events, which are retried a few times, then the batch
is split so only the event that keeps failing is dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import OffsetAndMetadata
from clearance_contracts import ContractViolation, event_key, validate_event
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from clearance_runtime import inbox, metrics
from clearance_runtime.dead_letter import count_dead_letter, dead_letter
from clearance_runtime.envelope import CloudEvent, MalformedEvent, from_kafka
from clearance_runtime.pause import pause
from clearance_runtime.tracing import BILL_OF_ENTRY_ATTRIBUTE, context_from
from clearance_runtime.unit_of_work import U

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Handler = Callable[[CloudEvent, Any], Awaitable[None]]
# Records of topics that are not CloudEvents (dead-letter topics), handled as they are.
RawHandler = Callable[[Any, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record the consumer gives up on, and why."""

    record: Any
    reason: str
    kind: str
    event_type: str


Item = tuple[Any, CloudEvent]  # (Kafka record, parsed event)


def is_rollback(error: BaseException) -> bool:
    """A deadlock or serialization failure: the database rolled back, retry at once."""
    return _in_chain(error, asyncpg.exceptions.TransactionRollbackError)


def _in_chain(error: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kind):
            return True
        if isinstance(current, DBAPIError) and isinstance(current.orig, kind):
            return True
        current = current.__cause__ or current.__context__
    return False


async def database_answers(engine: AsyncEngine, within_s: float = 5.0) -> bool:
    """True when the service's database runs a query: after a failure, this tells an
    outage (wait for it) from a failure of the events (retry, then dead-letter)."""
    try:
        async with asyncio.timeout(within_s), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


class Stopping(Exception):
    """The service is shutting down in the middle of a retry."""


class _Revocations(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts revocations per partition, so a batch whose partition was revoked
    while it was handled is not committed (the next owner re-reads it; the
    inbox makes that harmless)."""

    def __init__(self) -> None:
        self.epochs: dict[TopicPartition, int] = defaultdict(int)

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        for tp in revoked:
            self.epochs[tp] += 1

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        return None


class EventConsumer(Generic[U]):
    def __init__(
        self,
        *,
        service: str,
        consumer: AIOKafkaConsumer,
        handlers: Mapping[str, Handler],
        unit_of_work: Callable[[], contextlib.AbstractAsyncContextManager[U]],
        engine: AsyncEngine,
        raw_handlers: Mapping[str, RawHandler] | None = None,
        topics: Sequence[str] | None = None,
        batch_size: int = 500,
        fetch_timeout_ms: int = 200,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
        one_transaction_per_fetch: bool = False,
    ) -> None:
        self.service = service
        self.consumer = consumer
        self.handlers = handlers
        self.raw_handlers = raw_handlers or {}
        # Each event type's topic carries its name, unless told otherwise (tests).
        self._topics = sorted(topics or {*self.handlers, *self.raw_handlers})
        self.unit_of_work = unit_of_work
        self.engine = engine
        self.batch_size = batch_size
        self.fetch_timeout_ms = fetch_timeout_ms
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.revocations = _Revocations()
        self.one_transaction_per_fetch = one_transaction_per_fetch
        self.group_by_partition = True
        self._stop = asyncio.Event()
        self._last_lag_report = 0.0

    @property
    def topics(self) -> list[str]:
        return self._topics

    def subscribe(self) -> None:
        """Subscribe (before the client starts) with the rebalance listener."""
        self.consumer.subscribe(topics=self.topics, listener=self.revocations)

    async def check_partitions(self, producer: AIOKafkaProducer) -> None:
        """One transaction per partition number assumes every consumed event topic has
        the same partition count; when they differ, all partitions share one group. The
        dead-letter topics (raw records, one partition each) are left out: they are
        handled in a group of their own (`_group_of`)."""
        events = [name for name in self.topics if name not in self.raw_handlers]
        counts = {name: len(await producer.partitions_for(name)) for name in events}
        self.group_by_partition = len(set(counts.values())) <= 1
        if not self.group_by_partition:
            log.warning("consumed topics differ in partition count %s: one group", counts)

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; the batch in hand is finished first."""
        self._stop = stop
        while not stop.is_set():
            try:
                batches = await self.consumer.getmany(
                    timeout_ms=self.fetch_timeout_ms, max_records=self.batch_size
                )
            except KafkaError as error:
                log.warning("fetch failed, retrying: %s", error)
                await pause(stop, 1.0)
                continue
            if batches:
                await self._process(batches)
            await self._report_lag()

    async def _process(self, batches: Mapping[TopicPartition, Sequence[Any]]) -> None:
        """One transaction per partition number, the groups concurrently.

        Every topic is keyed by the BE and has the same partition count, so one
        BE's events on all topics mostly share a partition number: grouping by
        it keeps each BE in one sequential transaction, and concurrent groups
        rarely wait on each other's row locks. A producer that hashes keys
        another way (kcat) only makes two groups meet on a row now and then:
        row locks keep that correct, and a deadlock is retried.
        """
        epochs = {tp: self.revocations.epochs[tp] for tp in batches}
        groups: dict[int, dict[TopicPartition, Sequence[Any]]] = defaultdict(dict)
        for tp, records in batches.items():
            groups[self._group_of(tp)][tp] = records
        results = await asyncio.gather(
            *(self._process_group(group) for group in groups.values()), return_exceptions=True
        )
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for group, result in zip(groups.values(), results, strict=True):
            if isinstance(result, BaseException):
                self._rewind(group, result)
                continue
            offsets.update(
                {
                    tp: OffsetAndMetadata(int(records[-1].offset) + 1, "")
                    for tp, records in group.items()
                    if self.revocations.epochs[tp] == epochs[tp]
                }
            )
        if offsets:
            await self._commit(offsets)

    def _group_of(self, tp: TopicPartition) -> int:
        """The transaction a partition's records join.

        One per fetch (`one_transaction_per_fetch`, or event topics that differ in partition
        count): fewer, larger statements and commits; on two cores this costs less CPU per
        BE than concurrent transactions (bench/README.md, issue 18). Else one per partition
        number, and the dead-letter topics (one partition, a dead letter keeps its record's
        key) one of their own: a BE's dead letter meets its events only on a row lock,
        which waits (a deadlock is retried)."""
        if self.one_transaction_per_fetch or not self.group_by_partition:
            return 0
        return -1 if tp.topic in self.raw_handlers else tp.partition

    def _rewind(self, group: Mapping[TopicPartition, Sequence[Any]], error: BaseException) -> None:
        """Not committed: fetched again from its first record, here or by the next owner."""
        if not isinstance(error, Stopping):
            log.error("batch of %s failed; it will be fetched again", list(group), exc_info=error)
        for tp, records in group.items():
            with contextlib.suppress(IllegalStateError):  # revoked meanwhile
                self.consumer.seek(tp, records[0].offset)

    async def _commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        while True:
            try:
                await self.consumer.commit(offsets)
                return
            except (CommitFailedError, IllegalStateError) as error:
                # The group rebalanced: the next owner re-reads, the inbox dedups.
                log.warning("offset commit rejected after rebalance: %s", error)
                return
            except KafkaError as error:
                if self._stop.is_set():
                    return
                log.warning("offset commit failed, retrying: %s", error)
                await asyncio.sleep(1.0)

    async def _process_group(self, group: Mapping[TopicPartition, Sequence[Any]]) -> None:
        """Handle the records of one partition number (all its topics) in one transaction."""
        valid: list[Item] = []
        raw: list[Any] = []
        rejected: list[Rejected] = []
        for records in group.values():
            for record in records:
                if record.topic in self.raw_handlers:
                    raw.append(record)
                    continue
                parsed = self._parse(record)
                if isinstance(parsed, Rejected):
                    rejected.append(parsed)
                else:
                    valid.append(parsed)
        if valid or raw or rejected:
            await self._handle_with_retries(valid, raw, rejected)

    def _parse(self, record: Any) -> Item | Rejected:
        """The record as a valid event of this consumer, or why not."""
        try:
            event = from_kafka(record.headers or (), record.value)
        except MalformedEvent as error:
            return Rejected(record, f"malformed: {error}", "malformed", "unknown")
        if event.type not in self.handlers:
            reason = f"unexpected event type {event.type!r} on topic {record.topic}"
            return Rejected(record, reason, "unexpected_type", event.type)
        try:
            validate_event(event.type, event.data)
        except ContractViolation as error:
            return Rejected(record, f"contract: {error}", "contract", event.type)
        mismatch = _key_mismatch(record, event)
        if mismatch:
            return Rejected(record, mismatch, "key_mismatch", event.type)
        return record, event

    async def _handle_with_retries(
        self, batch: list[Item], raw: list[Any], rejected: list[Rejected]
    ) -> None:
        attempt, outage_backoff = 0, 0.2
        while True:
            try:
                await self._handle_batch(batch, raw, rejected)
                return
            except Exception as error:
                if self._stop.is_set():
                    raise Stopping from error
                if is_rollback(error) or not await database_answers(self.engine):
                    metrics.HANDLER_RETRIES.labels(self.service, "transient").inc()
                    log.warning("database unavailable or rolled back; batch retried: %r", error)
                    await asyncio.sleep(outage_backoff)
                    outage_backoff = min(outage_backoff * 2, 5.0)
                    continue
                attempt += 1
                metrics.HANDLER_RETRIES.labels(self.service, "handler").inc()
                if attempt < self.max_attempts:
                    await asyncio.sleep(self.retry_backoff_s * attempt)
                    continue
                await self._isolate(batch, raw, rejected, error, attempt)
                return

    async def _isolate(
        self,
        batch: list[Item],
        raw: list[Any],
        rejected: list[Rejected],
        error: Exception,
        attempts: int,
    ) -> None:
        """Retry each record alone, so only the one that keeps failing is dead-lettered."""
        if len(batch) + len(raw) + len(rejected) > 1:
            for item in batch:
                await self._handle_with_retries([item], [], [])
            for record in raw:
                await self._handle_with_retries([], [record], [])
            if rejected:
                await self._handle_with_retries([], [], rejected)
            return
        record = batch[0][0] if batch else raw[0] if raw else rejected[0].record
        event_type = batch[0][1].type if batch else record.topic
        log.error("handler failed for %s[%s]@%s", record.topic, record.partition, record.offset)
        if raw:  # a dead letter itself: there is no dead-letter topic of a dead-letter topic
            metrics.EVENTS_HANDLED.labels(self.service, record.topic, "skipped").inc()
            return
        reason = f"handler failed after {attempts} attempts: {type(error).__name__}: {error}"
        failed = Rejected(record, reason, "handler_error", event_type)
        await self._handle_with_retries([], [], [failed])

    async def _handle_batch(
        self, batch: list[Item], raw: list[Any], rejected: list[Rejected]
    ) -> None:
        outcomes: list[tuple[str, str]] = []
        dead = list(rejected)
        async with self.unit_of_work() as uow:
            events = [event for _, event in batch]
            claim = await inbox.claim(uow.session, self.service, events)
            fresh = {id(event) for event in claim.fresh}
            conflicts = {id(event) for event in claim.conflicts}
            for record, event in batch:
                if id(event) in conflicts:
                    reason = f"event id {event.id} was already used for other content"
                    dead.append(Rejected(record, reason, "id_reused", event.type))
                elif id(event) in fresh:
                    await self._handle_one(record, event, uow)
                    outcomes.append((event.type, "handled"))
                else:
                    outcomes.append((event.type, "duplicate"))
            for record in await self._fresh_raw(uow, raw):
                await self.raw_handlers[record.topic](record, uow)
                outcomes.append((record.topic, "handled"))
            for item in dead:
                dead_letter(uow, self.service, item.record, reason=item.reason, kind=item.kind)
        for (event_type, outcome), count in Counter(outcomes).items():  # once per kind
            metrics.EVENTS_HANDLED.labels(self.service, event_type, outcome).inc(count)
        for item in dead:
            count_dead_letter(self.service, item.record, reason=item.reason, kind=item.kind)
            metrics.EVENTS_HANDLED.labels(self.service, item.event_type, "dead_lettered").inc()

    async def _fresh_raw(self, uow: U, records: list[Any]) -> list[Any]:
        """Raw records not handled before, claimed in the inbox by their position."""
        if not records:
            return []
        by_id = {f"{r.topic}:{r.partition}:{r.offset}": r for r in records}
        stand_ins = [
            CloudEvent(id=record_id, type=r.topic, source="kafka", subject="", data={})
            for record_id, r in by_id.items()
        ]
        claim = await inbox.claim(uow.session, self.service, stand_ins)
        return [by_id[event.id] for event in claim.fresh]

    async def _handle_one(self, record: Any, event: CloudEvent, uow: U) -> None:
        with tracer.start_as_current_span(
            f"process {event.type}",
            context=context_from(event.traceparent, event.tracestate),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": record.topic,
                "messaging.kafka.partition": record.partition,
                "messaging.kafka.offset": record.offset,
                "messaging.message.id": event.id,
                BILL_OF_ENTRY_ATTRIBUTE: event.subject,
            },
        ):
            await self.handlers[event.type](event, uow)

    async def _report_lag(self) -> None:
        now = time.monotonic()
        if now - self._last_lag_report < 1.0:
            return
        self._last_lag_report = now
        for tp in self.consumer.assignment():
            highwater = self.consumer.highwater(tp)
            if highwater is None:
                continue
            with contextlib.suppress(KafkaError, AssertionError, IllegalStateError):
                position = await self.consumer.position(tp)
                metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                    max(highwater - position, 0)
                )


def _key_mismatch(record: Any, event: CloudEvent) -> str | None:
    """Why the record's Kafka key, its `ce_subject` and the identity in its body
    disagree (such a record could split one BE across partitions), or None."""
    try:
        expected = event_key(event.type, event.data)
    except (KeyError, ValueError) as error:
        return f"no key can be derived from the body: {error}"
    key = record.key.decode("utf-8", "replace") if record.key is not None else None
    if key != expected:
        return f"Kafka key {key!r} disagrees with the body's identity {expected!r}"
    if event.subject != expected:
        return f"ce_subject {event.subject!r} disagrees with the body's identity {expected!r}"
    return None
