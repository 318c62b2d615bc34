"""Helpers of the end-to-end tests: realistic filings, a topic listener, the pipeline."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from clearance_contracts import example
from clearance_local.kafka import partitions_of
from clearance_local.services import ServiceProcess
from clearance_local.stack import Endpoints
from clearance_runtime.envelope import CloudEvent

FILED = "icegate.bill-of-entry.filed.v1"
GATEPASS = "custodian.e-gatepass.issued.v1"
HELD = "clearance.out-of-charge.held.v1"
WATCHED = (GATEPASS, HELD, f"{FILED}.dlq")


def new_bill_of_entry(be_type: str = "H", **overrides: Any) -> dict[str, Any]:
    """A realistic filing with a fresh BE number (AEO T2, duty paid, no first check).

    Dated today, its goods are parts of CCTV cameras (8529 90 90), which no BIS order
    covers: the example's cameras (8525 80 90) fall under the CRO (BIS-CRS-4), and no
    registration of the 2021 register is valid today (tests/e2e/test_bis_verification.py
    files them with a real registration on a date it was valid)."""
    be = example(FILED)
    be.update(
        be_no=f"{random.randrange(10**6, 10**7):07d}",
        be_date=date.today().isoformat(),
        be_type=be_type,
        aeo_tier="T2",
        first_check=False,
        supporting_documents=[
            doc
            for doc in be.get("supporting_documents", [])
            if doc["document_type"] not in {"bis_registration", "bis_cml_licence"}
        ],
    )
    for invoice in be["invoices"]:
        for item in invoice["items"]:
            item["cth"] = "85299090"
            item["description"] = f"PARTS OF CCTV CAMERAS: HOUSING AND LENS OF {item['model']}"
    be["duty"] = {**be["duty"], "paid": True}
    if be_type == "W":
        be["warehouse_code"] = be.get("warehouse_code") or "MAA4W001"
        for n, container in enumerate(be["containers"]):
            container["seal_no"] = f"ABCD 1234 {5670 + n:04d}"
    return {**be, **overrides}


def key_of(be: dict[str, Any]) -> str:
    return f"{be['port_code']}/{be['be_no']}/{be['be_date']}"


class Listener:
    """Collects every record that appears on the watched topics from now on."""

    def __init__(self, bootstrap: str, topics: Sequence[str] = WATCHED) -> None:
        self.bootstrap = bootstrap
        self.topics = tuple(topics)
        self.records: dict[str, list[Any]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    async def start(self) -> None:
        await self._consumer.start()
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in await partitions_of(self.bootstrap, topic)
        ]
        self._consumer.assign(partitions)
        for tp, offset in (await self._consumer.end_offsets(partitions)).items():
            self._consumer.seek(tp, offset)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=200)
            except KafkaError:  # a slow broker under load: keep listening
                continue
            for tp, batch in batches.items():
                self.records[tp.topic].extend(batch)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(KafkaError):
            await self._consumer.stop()

    def for_key(self, topic: str, key: str) -> list[Any]:
        return [r for r in self.records[topic] if r.key and r.key.decode() == key]

    async def wait_for(
        self, topic: str, key: str, count: int = 1, timeout: float = 60
    ) -> list[Any]:
        async with asyncio.timeout(timeout):
            while len(self.for_key(topic, key)) < count:
                await asyncio.sleep(0.1)
        return self.for_key(topic, key)


class Pipeline:
    def __init__(self, services: dict[str, ServiceProcess], listener: Listener, infra: Endpoints):
        self.services = services
        self.listener = listener
        self.infra = infra
        self.producer = AIOKafkaProducer(
            bootstrap_servers=infra.kafka_bootstrap, acks="all", enable_idempotence=True
        )

    @property
    def intake_url(self) -> str:
        return self.services["be-intake"].url

    async def file(self, be: dict[str, Any], event: CloudEvent | None = None) -> CloudEvent:
        """Publish a filing as an ICEGATE-style upstream system would."""
        event = event or CloudEvent.new(FILED, "/icegate/test-upstream", key_of(be), be)
        await self.producer.send_and_wait(
            FILED, value=event.kafka_value(), key=event.kafka_key(), headers=event.kafka_headers()
        )
        return event

    async def status(self, be: dict[str, Any]) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.intake_url, timeout=10) as client:
            return await client.get(f"/bills-of-entry/{key_of(be)}")


async def disrupt_mid_stream(
    pipeline: Pipeline,
    disrupt: Callable[[], None],
    *,
    count: int,
    flowing_after: int,
    timeout: float,
) -> None:
    """File `count` BEs, run `disrupt` once `flowing_after` gatepasses are out, then
    check every BE got exactly one gatepass: nothing lost, nothing issued twice.

    A relay killed between send and commit may resend: the same event, same id,
    which custodians drop by its id. Never a second gatepass.
    """
    bills = [new_bill_of_entry("H") for _ in range(count)]
    for be in bills:
        await pipeline.file(be)
    keys = {key_of(be) for be in bills}
    async with asyncio.timeout(timeout):
        while sum(1 for k in keys if pipeline.listener.for_key(GATEPASS, k)) < flowing_after:
            await asyncio.sleep(0.05)
    await asyncio.to_thread(disrupt)
    for key in keys:
        await pipeline.listener.wait_for(GATEPASS, key, timeout=timeout + 60)
    await asyncio.sleep(3)  # let any duplicate surface
    for key in keys:
        records = pipeline.listener.for_key(GATEPASS, key)
        assert len({dict(r.headers)["ce_id"] for r in records}) == 1, key
        assert len({orjson.loads(r.value)["gatepass_no"] for r in records}) == 1, key
