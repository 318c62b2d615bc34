"""The Kafka consumer loop every service runs.

Per fetched partition batch: parse and validate each record (bad ones go to
the dead-letter topic with the reason), then handle the valid ones in one
database transaction that also claims their ids in the inbox; commit the
Kafka offsets only after that transaction commits. Partitions are handled
concurrently, each sequentially, so order per BE holds.

Failures: an infrastructure error (database or broker away) retries the batch
until it succeeds or the service stops; it never dead-letters. A handler that
raises is retried with backoff, then its batch is split so only the event that
keeps failing is dead-lettered, with the error as the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaConnectionError,
    KafkaError,
)
from aiokafka.structs import OffsetAndMetadata
from clearance_contracts import ContractViolation, validate_event
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy.exc import DBAPIError

from clearance_runtime import inbox, metrics
from clearance_runtime.dead_letter import DeadLetters
from clearance_runtime.envelope import CloudEvent, MalformedEvent, from_kafka
from clearance_runtime.kafka import INFRASTRUCTURE_ERRORS
from clearance_runtime.pause import pause
from clearance_runtime.tracing import BILL_OF_ENTRY_ATTRIBUTE, context_from
from clearance_runtime.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Handler = Callable[[CloudEvent, UnitOfWork], Awaitable[None]]
Item = tuple[Any, CloudEvent]  # (Kafka record, parsed event)

_INFRA_CAUSES: tuple[type[BaseException], ...] = (
    *INFRASTRUCTURE_ERRORS,
    KafkaConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
    asyncpg.exceptions.TransactionRollbackError,  # deadlock or serialization failure
)


def is_transient_error(error: BaseException) -> bool:
    """True when the error says the database or broker is away, or the database
    rolled the transaction back (deadlock, serialization): not the event is bad."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _INFRA_CAUSES):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


class Stopping(Exception):
    """The service is shutting down in the middle of a retry."""


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        consumer: AIOKafkaConsumer,
        handlers: Mapping[str, Handler],
        unit_of_work: UnitOfWorkFactory,
        dead_letters: DeadLetters,
        batch_size: int = 500,
        fetch_timeout_ms: int = 200,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
    ) -> None:
        self.service = service
        self.consumer = consumer
        self.handlers = handlers
        self.unit_of_work = unit_of_work
        self.dead_letters = dead_letters
        self.batch_size = batch_size
        self.fetch_timeout_ms = fetch_timeout_ms
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self._stop = asyncio.Event()
        self._last_lag_report = 0.0

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
        BE's events on all topics share a partition number: grouping by it
        keeps each BE in one sequential transaction, and concurrent groups
        never wait on each other's row locks.
        """
        groups: dict[int, dict[TopicPartition, Sequence[Any]]] = defaultdict(dict)
        for tp, records in batches.items():
            groups[tp.partition][tp] = records
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
                }
            )
        if offsets:
            await self._commit(offsets)

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
            except CommitFailedError as error:
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
        for records in group.values():
            for record in records:
                item = await self._parse(record)
                if item is not None:
                    valid.append(item)
        if valid:
            await self._handle_with_retries(valid)

    async def _parse(self, record: Any) -> Item | None:
        """The record as an event, or None after dead-lettering it with the reason."""
        try:
            event = from_kafka(record.headers or (), record.value)
        except MalformedEvent as error:
            await self._dead_letter(record, f"malformed: {error}", "malformed", "unknown")
            return None
        if event.type not in self.handlers:
            reason = f"unexpected event type {event.type!r} on topic {record.topic}"
            await self._dead_letter(record, reason, "unexpected_type", event.type)
            return None
        try:
            validate_event(event.type, event.data)
        except ContractViolation as error:
            await self._dead_letter(record, f"contract: {error}", "contract", event.type)
            return None
        return record, event

    async def _dead_letter(self, record: Any, reason: str, kind: str, event_type: str) -> None:
        while True:
            try:
                await self.dead_letters.send(record, reason=reason, kind=kind)
                break
            except KafkaError as error:
                if self._stop.is_set():
                    raise Stopping from error
                log.warning("dead-letter publish failed, retrying: %s", error)
                await asyncio.sleep(1.0)
        metrics.EVENTS_HANDLED.labels(self.service, event_type, "dead_lettered").inc()

    async def _handle_with_retries(self, batch: list[Item]) -> None:
        attempt, infra_backoff = 0, 0.2
        while True:
            try:
                await self._handle_batch(batch)
                return
            except Exception as error:
                if is_transient_error(error):
                    metrics.HANDLER_RETRIES.labels(self.service, "transient").inc()
                    log.warning("transient error, batch will be retried: %s", error)
                    if self._stop.is_set():
                        raise Stopping from error
                    await asyncio.sleep(infra_backoff)
                    infra_backoff = min(infra_backoff * 2, 5.0)
                    continue
                attempt += 1
                metrics.HANDLER_RETRIES.labels(self.service, "handler").inc()
                if attempt < self.max_attempts:
                    await asyncio.sleep(self.retry_backoff_s * attempt)
                    continue
                if len(batch) > 1:
                    # Isolate the event that keeps failing; the others still go through.
                    for item in batch:
                        await self._handle_with_retries([item])
                    return
                record, event = batch[0]
                log.exception("handler failed for event %s", event.id)
                reason = f"handler failed after {attempt} attempts: {type(error).__name__}: {error}"
                await self._dead_letter(record, reason, "handler_error", event.type)
                return

    async def _handle_batch(self, batch: list[Item]) -> None:
        outcomes: list[tuple[str, str]] = []
        async with self.unit_of_work() as uow:
            fresh = await inbox.claim(uow.session, self.service, [event for _, event in batch])
            handled: set[str] = set()
            for record, event in batch:
                if event.id not in fresh or event.id in handled:
                    outcomes.append((event.type, "duplicate"))
                    continue
                handled.add(event.id)
                await self._handle_one(record, event, uow)
                outcomes.append((event.type, "handled"))
        for event_type, outcome in outcomes:
            metrics.EVENTS_HANDLED.labels(self.service, event_type, outcome).inc()

    async def _handle_one(self, record: Any, event: CloudEvent, uow: UnitOfWork) -> None:
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
            with contextlib.suppress(KafkaError, AssertionError):
                position = await self.consumer.position(tp)
                metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                    max(highwater - position, 0)
                )
