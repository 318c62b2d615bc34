"""The runtime against real Kafka and PostgreSQL: outbox relay, inbox, dead letters, spans."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from clearance_contracts import example
from clearance_local.kafka import ensure_topics, partitions_of
from clearance_runtime.consumer import EventConsumer
from clearance_runtime.database import create_engine, session_factory
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.kafka import client_options, idempotent_producer, manual_commit_consumer
from clearance_runtime.migrations import runtime_ddl
from clearance_runtime.outbox import OutboxRelay
from clearance_runtime.settings import ServiceSettings
from clearance_runtime.tracing import configure_tracing, continuing
from clearance_runtime.unit_of_work import SqlUnitOfWork, unit_of_work_factory
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

pytestmark = pytest.mark.integration

HELD = "clearance.out-of-charge.held.v1"
SPANS = InMemorySpanExporter()
configure_tracing("runtime-tests", SimpleSpanProcessor(SPANS))


def _held(be_no: str) -> dict[str, Any]:
    data = example(HELD)
    data["bill_of_entry_ref"] = {**data["bill_of_entry_ref"], "be_no": be_no}
    return data


def _key(be_no: str) -> str:
    return f"INNSA1/{be_no}/2025-03-22"


def _held_event(be_no: str) -> CloudEvent:
    return CloudEvent.new(HELD, "/test", _key(be_no), _held(be_no))


class Harness:
    """A throwaway schema with the runtime's tables, and the clients around it."""

    def __init__(self, admin_dsn: str, bootstrap: str) -> None:
        self.schema = f"rt_{uuid.uuid4().hex[:10]}"
        self.bootstrap = bootstrap
        self.settings = ServiceSettings(
            service_name=f"runtime-test-{self.schema}",
            db_schema=self.schema,
            database_url=admin_dsn,
            kafka_bootstrap=bootstrap,
        )
        self.admin_dsn = admin_dsn
        self.engine = create_engine(self.settings)
        self.unit_of_work = unit_of_work_factory(
            session_factory(self.engine), source="/test", schema=self.schema
        )

    async def create_schema(self) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f"CREATE SCHEMA {self.schema}")
            await conn.execute(f"SET search_path = {self.schema}")
            for statement in runtime_ddl():
                await conn.execute(statement)
            await conn.execute("CREATE TABLE effect (event_id text, be_no text)")
        finally:
            await conn.close()

    def relay(self, service: str, producer: AIOKafkaProducer, **options: Any) -> OutboxRelay:
        """The outbox relay of this schema, sending with `producer`."""
        return OutboxRelay(
            service=service,
            schema=self.schema,
            engine=self.engine,
            listen_dsn=self.settings.asyncpg_dsn,
            producer=producer,
            **options,
        )

    async def effects(self) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(text("SELECT be_no FROM effect ORDER BY be_no"))
            return [row[0] for row in rows]


@pytest.fixture
async def harness(postgres_admin_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Harness]:
    h = Harness(postgres_admin_dsn, kafka_bootstrap)
    await h.create_schema()
    yield h
    await h.engine.dispose()


async def _end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**client_options(), bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
        offsets: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return offsets
    finally:
        await consumer.stop()


async def _read_from(bootstrap: str, offsets: dict[TopicPartition, int], wanted: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        **client_options(), bootstrap_servers=bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    records: list[Any] = []
    try:
        consumer.assign(list(offsets))
        for tp, offset in offsets.items():
            consumer.seek(tp, offset)
        async with asyncio.timeout(30):
            while len(records) < wanted:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def _publish_then_fail(harness: Harness) -> None:
    async with harness.unit_of_work() as uow:
        uow.publish(HELD, _key("9999999"), _held("9999999"))
        raise RuntimeError("the state change failed")


async def test_outbox_relay_publishes_committed_events_in_order_per_key(
    harness: Harness,
) -> None:
    before = await _end_offsets(harness.bootstrap, HELD)
    numbers = [str(9000000 + n % 2) for n in range(20)]
    async with harness.unit_of_work() as uow:
        published = [uow.publish(HELD, _key(n), _held(n)) for n in numbers]
    subjects = [_key(n) for n in numbers]
    with pytest.raises(RuntimeError):  # rolled back: must never reach Kafka
        await _publish_then_fail(harness)

    producer = idempotent_producer(harness.bootstrap, "relay-test")
    await producer.start()
    try:
        relay = harness.relay("relay-test", producer)
        assert await relay.relay_once() == 20
        assert await relay.relay_once() == 0
    finally:
        await producer.stop()

    records = await _read_from(harness.bootstrap, before, 20)
    ours = [r for r in records if dict(r.headers)["ce_id"].decode() in {e.id for e in published}]
    assert len(ours) == 20
    for key in set(subjects):
        sent = [e.id for e in published if e.subject == key]
        received = [dict(r.headers)["ce_id"].decode() for r in ours if r.key.decode() == key]
        assert received == sent
    assert all(b"traceparent" in {name.encode() for name, _ in r.headers} for r in ours)


async def _consume(
    harness: Harness, topic: str, handler_fails_for: str | None = None, stop_after: int = 0
) -> tuple[list[str], dict[TopicPartition, int]]:
    handled: list[str] = []

    async def handle(event: CloudEvent, uow: SqlUnitOfWork) -> None:
        be_no = event.data["bill_of_entry_ref"]["be_no"]
        if be_no == handler_fails_for:  # an OSError that is no outage: the event's failure
            raise FileNotFoundError(f"no file for {be_no}")
        await uow.session.execute(
            text("INSERT INTO effect VALUES (:id, :be_no)"), {"id": event.id, "be_no": be_no}
        )
        handled.append(be_no)

    group = f"group-{uuid.uuid4().hex[:8]}"
    kafka_consumer = manual_commit_consumer(harness.bootstrap, group, group)
    producer = idempotent_producer(harness.bootstrap, group)
    stop = asyncio.Event()
    consumer = EventConsumer(
        service=group,
        consumer=kafka_consumer,
        handlers={HELD: handle},
        unit_of_work=harness.unit_of_work,
        engine=harness.engine,
        topics=[topic],
        max_attempts=2,
        retry_backoff_s=0.01,
    )
    consumer.subscribe()
    await kafka_consumer.start()
    await producer.start()
    relay = harness.relay(group, producer, poll_interval_s=0.2)
    task = asyncio.create_task(consumer.run(stop))
    relay_task = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(60):
            while len(await harness.effects()) < stop_after:
                await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # let the last commit land
    finally:
        stop.set()
        await task
        await relay_task
        tp = TopicPartition(topic, 0)
        committed = {tp: await kafka_consumer.committed(tp)}
        await kafka_consumer.stop()
        await producer.stop()
    return handled, committed


async def _private_topic(bootstrap: str) -> str:
    topic = f"runtime-test.{uuid.uuid4().hex[:10]}"
    await ensure_topics(bootstrap, {topic: 1, f"{topic}.dlq": 1})
    return topic


Record = tuple[list[Any], bytes, bytes]


async def _produce(bootstrap: str, topic: str, records: list[Record]) -> None:
    producer = AIOKafkaProducer(**client_options(), bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for headers, value, key in records:
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


def _record(event: CloudEvent, key: bytes | None = None) -> Record:
    return event.kafka_headers(), event.kafka_value(), key or event.kafka_key()


async def test_a_redelivered_event_is_handled_once_and_offsets_follow_commits(
    harness: Harness,
) -> None:
    topic = await _private_topic(harness.bootstrap)
    first, second = _held_event("1000001"), _held_event("1000002")
    await _produce(harness.bootstrap, topic, [_record(first)] * 3 + [_record(second)])

    handled, committed = await _consume(harness, topic, stop_after=2)

    assert handled == ["1000001", "1000002"]
    assert await harness.effects() == ["1000001", "1000002"]
    assert committed[TopicPartition(topic, 0)] == 4


async def test_bad_records_go_to_the_dead_letter_topic_with_their_reason(
    harness: Harness,
) -> None:
    topic = await _private_topic(harness.bootstrap)
    good = _held_event("2000003")
    violating = CloudEvent.new(
        HELD, "/test", _key("2000001"), {"bill_of_entry_ref": {"be_no": "x"}}
    )
    poison = _held_event("2000002")
    mis_keyed = _held_event("2000004")
    # good's id, reused for another BE
    reused = dataclasses.replace(good, subject=_key("2000005"), data=_held("2000005"))
    await _produce(
        harness.bootstrap,
        topic,
        [
            ([("ce_id", b"1")], b"{not json", b"k"),
            _record(violating),
            _record(poison),
            _record(good),
            _record(mis_keyed, key=_key("2000003").encode()),
            _record(reused, key=reused.kafka_key()),
        ],
    )

    handled, _ = await _consume(harness, topic, handler_fails_for="2000002", stop_after=1)
    assert handled == ["2000003"]

    dead = await _read_from(harness.bootstrap, {TopicPartition(f"{topic}.dlq", 0): 0}, 5)
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
    assert reasons[0].startswith(f"Kafka key {_key('2000003')!r} disagrees")
    assert reasons[1].startswith(f"contract: {HELD}")
    assert reasons[2].startswith(f"event id {good.id} was already used for other content")
    assert reasons[3].startswith("handler failed after 2 attempts: FileNotFoundError")
    assert reasons[4].startswith("malformed: missing CloudEvents headers")
    malformed = next(r for r in dead if r.value == b"{not json")  # the original bytes, untouched
    assert dict(malformed.headers)["dlq_original_topic"].decode() == topic


async def test_a_record_with_nul_bytes_is_dead_lettered_and_the_consumer_moves_on(
    harness: Harness,
) -> None:
    """Issue 17's hostile input: a NUL in a record's key or headers (PostgreSQL's text and
    jsonb cannot hold one) once made the dead letter itself fail, and the consumer retried
    that record forever. Now it is dead-lettered byte for byte and the next is handled."""
    topic = await _private_topic(harness.bootstrap)
    nul_key = _held_event("3000001")
    nul_type = _held_event("3000002")
    headers = [(n, v + b"\x00" if n == "ce_type" else v) for n, v in _record(nul_type)[0]]
    await _produce(
        harness.bootstrap,
        topic,
        [
            _record(nul_key, key=nul_key.kafka_key() + b"\x00"),
            (headers, nul_type.kafka_value(), nul_type.kafka_key()),
            _record(_held_event("3000003")),
        ],
    )
    handled, _ = await _consume(harness, topic, stop_after=1)
    assert handled == ["3000003"]
    dead = await _read_from(harness.bootstrap, {TopicPartition(f"{topic}.dlq", 0): 0}, 2)
    by_offset = {int(dict(r.headers)["dlq_original_offset"]): dict(r.headers) for r in dead}
    assert by_offset[0]["dlq_original_key"] == nul_key.kafka_key() + b"\x00"
    assert by_offset[0]["dlq_reason"].decode().startswith("Kafka key")
    assert by_offset[1]["ce_type"] == HELD.encode() + b"\x00"
    assert b"NUL" in by_offset[1]["dlq_reason"]


async def test_handling_leaves_consumer_and_database_spans_in_one_trace(
    harness: Harness,
) -> None:
    topic = await _private_topic(harness.bootstrap)
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    event = _held_event("3000001")
    await _produce(harness.bootstrap, topic, [_record(event.with_trace({"traceparent": parent}))])
    SPANS.clear()

    await _consume(harness, topic, stop_after=1)

    spans = [s for s in SPANS.get_finished_spans() if s.context.trace_id == int(parent[3:35], 16)]
    process = [s for s in spans if s.name == f"process {HELD}"]
    assert len(process) == 1
    assert process[0].attributes is not None
    assert process[0].attributes["clearance.bill_of_entry"] == _key("3000001")
    database = [s for s in spans if s.attributes and s.attributes.get("db.system") == "postgresql"]
    assert database, "asyncpg instrumentation must emit database spans"


async def test_the_relay_sends_each_event_as_a_span_of_its_trace(harness: Harness) -> None:
    """One PRODUCER span per row, child of the context the event was published in; the
    record carries that span as its parent (the consumer's span continues from it)."""
    parent = "00-5cf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    before = await _end_offsets(harness.bootstrap, HELD)
    async with harness.unit_of_work() as uow:
        with continuing({"traceparent": parent}):
            published = [uow.publish(HELD, _key(n), _held(n)) for n in ("9100001", "9100002")]
    SPANS.clear()
    producer = idempotent_producer(harness.bootstrap, "relay-trace-test")
    await producer.start()
    try:
        relay = harness.relay("relay-trace-test", producer)
        assert await relay.relay_once() == 2
    finally:
        await producer.stop()

    records = await _read_from(harness.bootstrap, before, 2)
    ours = [r for r in records if dict(r.headers)["ce_id"].decode() in {e.id for e in published}]
    sends = {s.context.span_id: s for s in SPANS.get_finished_spans() if s.name == f"send {HELD}"}
    assert len(ours) == 2
    assert len(sends) == 2
    for record in ours:
        _, trace_id, span_id, flags = dict(record.headers)["traceparent"].decode().split("-")
        assert (trace_id, flags) == (parent[3:35], "01")
        span = sends[int(span_id, 16)]
        assert span.kind is SpanKind.PRODUCER
        assert span.parent is not None
        assert span.parent.span_id == int(parent[36:52], 16)
        assert span.attributes is not None
        assert span.attributes["clearance.bill_of_entry"] == record.key.decode()
        assert span.attributes["messaging.destination.name"] == HELD
