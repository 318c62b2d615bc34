"""Timers, deliveries, relay fencing and dead-letter replay on real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from clearance_contracts import example
from clearance_local.kafka import ensure_topics
from clearance_runtime import dlq
from clearance_runtime.clock import ControllableClock
from clearance_runtime.database import create_engine, session_factory
from clearance_runtime.deliveries import Backoff, DeliveryWorker, http_json_sender
from clearance_runtime.kafka import client_options, idempotent_producer
from clearance_runtime.migrations import runtime_ddl
from clearance_runtime.outbox import OutboxRelay
from clearance_runtime.settings import ServiceSettings
from clearance_runtime.timers import Timer, TimerWorker
from clearance_runtime.unit_of_work import SqlUnitOfWork, unit_of_work_factory
from sqlalchemy import text

pytestmark = pytest.mark.integration

HELD = "clearance.out-of-charge.held.v1"


class Schema:
    """A throwaway schema with the runtime's tables, on a controllable clock."""

    def __init__(self, admin_dsn: str, bootstrap: str) -> None:
        self.name = f"rt_{uuid.uuid4().hex[:10]}"
        self.admin_dsn = admin_dsn
        self.bootstrap = bootstrap
        self.settings = ServiceSettings(
            service_name=f"test-{self.name}",
            db_schema=self.name,
            database_url=admin_dsn,
            kafka_bootstrap=bootstrap,
        )
        self.clock = ControllableClock(datetime(2021, 2, 1, 9, 0, tzinfo=UTC))
        self.engine = create_engine(self.settings)
        self.unit_of_work = unit_of_work_factory(
            session_factory(self.engine), source="/test", schema=self.name, clock=self.clock
        )

    async def create(self) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f"CREATE SCHEMA {self.name}")
            await conn.execute(f"SET search_path = {self.name}")
            for statement in runtime_ddl():
                await conn.execute(statement)
            await conn.execute("CREATE TABLE effect (what text, at timestamptz)")
        finally:
            await conn.close()

    async def rows(self, query: str) -> list[Any]:
        async with self.engine.connect() as conn:
            return list(await conn.execute(text(query)))

    def timer_worker(self, handlers: dict[str, Any]) -> TimerWorker[SqlUnitOfWork]:
        return TimerWorker(
            service=self.settings.service_name,
            engine=self.engine,
            unit_of_work=self.unit_of_work,
            handlers=handlers,
            clock=self.clock,
            poll_interval_s=0.1,
        )


@pytest.fixture
async def schema(postgres_admin_dsn: str, kafka_bootstrap: str) -> AsyncIterator[Schema]:
    created = Schema(postgres_admin_dsn, kafka_bootstrap)
    await created.create()
    yield created
    await created.engine.dispose()


async def _record_effect(timer: Timer, uow: SqlUnitOfWork) -> None:
    await uow.session.execute(
        text("INSERT INTO effect VALUES (:what, :at)"),
        {"what": f"{timer.kind}:{timer.key}:{timer.payload['n']}", "at": uow.clock.now()},
    )


async def test_a_timer_survives_a_restart_and_fires_once_when_its_time_comes(
    schema: Schema,
) -> None:
    """SEAL-ACK-1-style deadline: set now, due in a month, fired once after a restart."""
    async with schema.unit_of_work() as uow:
        uow.schedule(
            "ack-deadline",
            "INNSA1/1000001/2021-02-01",
            uow.clock.now() + timedelta(days=30),
            {"n": 1},
        )
        uow.schedule(
            "ack-deadline",
            "INNSA1/1000002/2021-02-01",
            uow.clock.now() + timedelta(days=30),
            {"n": 2},
        )
    async with schema.unit_of_work() as uow:
        uow.cancel("ack-deadline", "INNSA1/1000002/2021-02-01")  # acknowledged in time

    first = schema.timer_worker({"ack-deadline": _record_effect})
    assert await first.fire_due() == 0  # not due yet: the worker "restarts" with nothing done

    schema.clock.advance(timedelta(days=30, seconds=1))
    stop = asyncio.Event()
    workers = [schema.timer_worker({"ack-deadline": _record_effect}) for _ in range(2)]
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]  # two replicas
    async with asyncio.timeout(20):
        while not await schema.rows("SELECT * FROM effect"):
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*tasks)

    effects = await schema.rows("SELECT what FROM effect")
    assert [row.what for row in effects] == ["ack-deadline:INNSA1/1000001/2021-02-01:1"]
    [timer] = await schema.rows("SELECT fired_at FROM due_work WHERE fired_at IS NOT NULL")
    assert timer.fired_at == schema.clock.now() or timer.fired_at <= schema.clock.now()


async def test_a_timer_whose_handler_keeps_failing_is_set_aside_not_retried_forever(
    schema: Schema,
) -> None:
    async def broken(timer: Timer, uow: SqlUnitOfWork) -> None:
        raise RuntimeError("bug")

    async with schema.unit_of_work() as uow:
        uow.schedule("broken", "a", uow.clock.now(), {"n": 1})
        uow.schedule("fine", "b", uow.clock.now(), {"n": 2})
    worker = schema.timer_worker({"broken": broken, "fine": _record_effect})
    await worker.fire_due()
    assert [row.what for row in await schema.rows("SELECT what FROM effect")] == ["fine:b:2"]
    [failed] = await schema.rows("SELECT key, last_error FROM due_work WHERE failed_at IS NOT NULL")
    assert failed.key == "a"
    assert "bug" in failed.last_error


class _Endpoint(BaseHTTPRequestHandler):
    """A receiving party that fails the first `failures` calls."""

    failures = 2
    received: list[tuple[str, bytes]] = []  # noqa: RUF012 - shared by the server's threads

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        if _Endpoint.failures > 0:
            _Endpoint.failures -= 1
            self.send_response(503)
        else:
            _Endpoint.received.append((self.headers["idempotency-key"], body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def endpoint() -> Iterator[str]:
    _Endpoint.failures, _Endpoint.received = 2, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/notify"
    server.shutdown()


async def test_a_delivery_is_retried_with_backoff_until_the_endpoint_answers(
    schema: Schema, endpoint: str
) -> None:
    async with schema.unit_of_work() as uow:
        first = uow.deliver("CUSTODIAN-1", "e-gatepass", {"gatepass_no": "GP-1"})
        second = uow.deliver("CUSTODIAN-1", "e-gatepass", {"gatepass_no": "GP-2"})
    async with httpx.AsyncClient() as client:
        worker = DeliveryWorker(
            service="test",
            engine=schema.engine,
            senders={"e-gatepass": http_json_sender(client, lambda _d: endpoint)},
            clock=schema.clock,
            backoff=Backoff(first_s=10, factor=2),
        )
        for expected_wait in (None, 10, 20):  # two failures, backing off 10 s then 20 s
            if expected_wait:
                assert await worker.deliver_due() == 0  # not due before its backoff
                schema.clock.advance(timedelta(seconds=expected_wait))
            assert await worker.deliver_due() == 1  # only the head of the destination
        assert await worker.deliver_due() == 1  # then the backlog flows, in order

    assert [key for key, _ in _Endpoint.received] == [first, second]
    attempts = await schema.rows(
        "SELECT delivery_id, attempt, outcome, status_code FROM delivery_attempt ORDER BY id"
    )
    assert [(a.delivery_id, a.attempt, a.outcome, a.status_code) for a in attempts] == [
        (first, 1, "retry", 503),
        (first, 2, "retry", 503),
        (first, 3, "delivered", 200),
        (second, 1, "delivered", 200),
    ]
    states = await schema.rows("SELECT state FROM delivery")
    assert {row.state for row in states} == {"delivered"}


async def _relay(schema: Schema, name: str, sent_by: dict[str, str]) -> OutboxRelay:
    producer = idempotent_producer(schema.bootstrap, name)
    await producer.start()
    relay = OutboxRelay(
        service=name,
        schema=schema.name,
        engine=schema.engine,
        listen_dsn=schema.settings.asyncpg_dsn,
        producer=producer,
        batch_size=50,
        poll_interval_s=0.1,
    )
    original = relay._send

    async def send(row: Any) -> Any:
        sent_by[row["key"]] = name
        return await original(row)

    relay._send = send  # type: ignore[method-assign]
    return relay


async def test_two_relays_of_one_schema_never_publish_at_once(schema: Schema) -> None:
    """The leader publishes; when its connection (and lock) goes, the standby takes
    over, and the deposed one cannot publish another batch."""
    sent_by: dict[str, str] = {}
    relays = [await _relay(schema, f"relay-{n}", sent_by) for n in (1, 2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(stop)) for relay in relays]

    async def publish(numbers: range) -> None:
        async with schema.unit_of_work() as uow:
            for n in numbers:
                data = example(HELD)
                data["bill_of_entry_ref"]["be_no"] = f"{n:07d}"
                uow.publish(HELD, f"INNSA1/{n:07d}/2025-03-22", data)

    async def sent(count: int) -> None:
        async with asyncio.timeout(30):
            while len(sent_by) < count:
                await asyncio.sleep(0.05)

    await publish(range(1, 101))
    await sent(100)
    leaders = set(sent_by.values())
    assert len(leaders) == 1
    leader = next(relay for relay in relays if relay.service in leaders)
    conn = await asyncpg.connect(schema.admin_dsn)
    await conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1",
        leader._listener.get_server_pid(),  # type: ignore[union-attr]
    )
    await conn.close()
    await publish(range(101, 201))
    await sent(200)
    stop.set()
    await asyncio.gather(*tasks)
    for relay in relays:
        await relay.producer.stop()
    second_round = {sent_by[f"INNSA1/{n:07d}/2025-03-22"] for n in range(101, 201)}
    assert len(second_round) == 1  # one relay published the whole second round
    unpublished = await schema.rows("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
    assert unpublished[0].n == 0


async def test_dead_letters_are_replayed_to_their_topic_without_dlq_headers(
    kafka_bootstrap: str,
) -> None:
    topic = f"runtime-test.{uuid.uuid4().hex[:10]}"
    await ensure_topics(kafka_bootstrap, {topic: 1, f"{topic}.dlq": 1})
    producer = idempotent_producer(kafka_bootstrap, "dlq-test")
    await producer.start()
    for n, consumer in enumerate(("be-intake", "ooc-issuer")):
        await producer.send_and_wait(
            f"{topic}.dlq",
            key=b"INNSA1/1000001/2025-03-20",
            value=f'{{"n": {n}}}'.encode(),
            headers=[
                ("ce_id", f"id-{n}".encode()),
                ("dlq_reason", b"handler failed"),
                ("dlq_consumer", consumer.encode()),
                ("dlq_original_topic", topic.encode()),
            ],
        )
    await producer.stop()

    listed = await dlq.replay(kafka_bootstrap, f"{topic}.dlq", dry_run=True)
    assert [letter.consumer for letter in listed] == ["be-intake", "ooc-issuer"]
    replayed = await dlq.replay(
        kafka_bootstrap, f"{topic}.dlq", select=lambda letter: letter.consumer == "ooc-issuer"
    )
    assert [letter.offset for letter in replayed] == [1]

    consumer = AIOKafkaConsumer(
        **client_options(), bootstrap_servers=kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning(TopicPartition(topic, 0))
        [record] = (await consumer.getmany(timeout_ms=10000))[TopicPartition(topic, 0)]
    finally:
        await consumer.stop()
    headers = dict(record.headers)
    assert record.value == b'{"n": 1}'
    assert headers["ce_id"] == b"id-1"
    assert "dlq_reason" not in headers
    assert headers[dlq.REPLAYED_FROM] == f"{topic}.dlq:0:1".encode()


def _calendar(body: Any) -> frozenset[str]:
    if not isinstance(body, list):
        raise ValueError("a list of dates")
    return frozenset(body)


async def test_policies_load_from_files_and_an_administrators_version_reaches_every_replica(
    schema: Schema, tmp_path: Any
) -> None:
    import json
    from datetime import date

    from clearance_runtime.policies import Policies, PolicyKind, PolicyStore, PolicyVersion

    kind = PolicyKind("holiday-calendar", _calendar)
    version = {
        "policy_id": "holiday-calendar",
        "version": 1,
        "effective_from": "2021-01-01",
        "source_document": "central-government-closed-holidays-2021-delhi.csv",
        "body": ["2021-01-26"],
    }
    (tmp_path / "holiday-calendar.v1.json").write_text(json.dumps(version))
    replica_a = PolicyStore(schema.engine, Policies([kind]))
    replica_b = PolicyStore(schema.engine, Policies([kind]))
    assert await replica_a.load_files(tmp_path) == 1
    assert await replica_b.load_files(tmp_path) == 0  # already stored: loading is idempotent
    await replica_b.refresh()
    assert replica_b.policies.in_force(kind, date(2021, 3, 1)).version == 1

    amended = PolicyVersion.from_data(
        {**version, "effective_from": "2021-04-01", "body": ["2021-04-02"]}
    )
    added = await replica_a.add_version(amended, "admin:test")
    assert added.version == 2
    assert await replica_b.refresh()  # the other replica sees the table changed
    assert replica_b.policies.in_force(kind, date(2021, 3, 31)).version == 1
    assert replica_b.policies.in_force(kind, date(2021, 4, 1)).body == frozenset({"2021-04-02"})
    assert not await replica_b.refresh()  # nothing new: nothing reloaded
