"""The local stack is real: a broker that carries records, a database that
confines each service to its own schema, a trace viewer that answers."""

import asyncio
import shutil
import uuid

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from clearance_local.config import SERVICE_SCHEMAS
from clearance_local.kafka import ensure_topics
from clearance_local.stack import Endpoints
from clearance_runtime.kafka import KafkaSecurity, client_options

pytestmark = pytest.mark.integration


async def _new_topic(bootstrap: str) -> str:
    topic = f"smoke.{uuid.uuid4().hex[:12]}"
    assert await ensure_topics(bootstrap, {topic: 1}) == [topic]
    return topic


async def test_broker_carries_a_record_end_to_end(kafka_bootstrap: str) -> None:
    topic = await _new_topic(kafka_bootstrap)
    producer = AIOKafkaProducer(
        **client_options(), bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"be_no": "1234567"}', key=b"INNSA1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_options(),  # the test process's credentials (the Kafka administrator)
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=20)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"INNSA1", b'{"be_no": "1234567"}')


async def test_topics_are_not_auto_created(kafka_bootstrap: str) -> None:
    producer = AIOKafkaProducer(
        **client_options(),
        bootstrap_servers=kafka_bootstrap,
        request_timeout_ms=3000,
        max_batch_size=1024,
    )
    await producer.start()
    try:
        with pytest.raises(KafkaError):
            await producer.send_and_wait(f"never.created.{uuid.uuid4().hex}", b"x")
    finally:
        await producer.stop()


async def _kcat(*args: str, stdin: bytes = b"") -> str:
    kcat = shutil.which("kcat")
    assert kcat, "kcat must be installed (bin/clearance installs Debian's kcat)"
    # The test process's Kafka credentials (the administrator), as kcat -X options.
    security = [a for o in KafkaSecurity.from_env().librdkafka_options("PLAIN") for a in ("-X", o)]
    proc = await asyncio.create_subprocess_exec(
        kcat,
        args[0],
        *security,
        *args[1:],
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(stdin), timeout=30)
    assert proc.returncode == 0
    return out.decode()


async def test_kcat_a_client_we_did_not_write_produces_and_consumes(kafka_bootstrap: str) -> None:
    topic = await _new_topic(kafka_bootstrap)
    await _kcat("-P", "-b", kafka_bootstrap, "-t", topic, "-k", "BE-1", stdin=b"filed\n")
    out = await _kcat("-C", "-b", kafka_bootstrap, "-t", topic, "-e", "-q", "-f", "%k=%s\n")
    assert out.strip() == "BE-1=filed"


@pytest.mark.parametrize("schema", SERVICE_SCHEMAS)
async def test_each_service_role_is_confined_to_its_own_schema(
    schema: str, service_dsns: dict[str, str], postgres_admin_dsn: str
) -> None:
    others = [other for other in SERVICE_SCHEMAS if other != schema]
    admin = await asyncpg.connect(postgres_admin_dsn)
    try:  # a table in a neighbour's schema, owned by that neighbour
        neighbour = others[0]
        await admin.execute(f"SET ROLE {neighbour}")
        await admin.execute(f"CREATE TABLE IF NOT EXISTS {neighbour}.probe (id int)")
    finally:
        await admin.close()

    conn = await asyncpg.connect(service_dsns[schema])
    try:
        async with conn.transaction():
            assert await conn.fetchval("SELECT current_schema()") == schema
            await conn.execute("CREATE TABLE IF NOT EXISTS own_probe (id int)")
            await conn.execute("INSERT INTO own_probe VALUES (1)")
        for other in others:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.fetch(f"SELECT * FROM {other}.probe")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.escape (id int)")
    finally:
        await conn.close()


async def test_trace_viewer_answers(infra: Endpoints) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{infra.zipkin_url}/health", timeout=5)
    assert response.status_code == 200
