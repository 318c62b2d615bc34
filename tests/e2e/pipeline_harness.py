"""Helpers of the end-to-end tests: realistic filings, a topic listener, the pipeline."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from clearance_contracts import E_GATEPASS_ISSUED, event_key, example, topic_for
from clearance_local.kafka import partitions_of
from clearance_local.services import ServiceProcess
from clearance_local.stack import Endpoints
from clearance_runtime.envelope import CloudEvent

FILED = "icegate.bill-of-entry.filed.v1"
# The e-Gatepass goes to the custodian's own topic (OOC-GP-1); a BE naming none goes to its
# custom house's default custodian (INNSA1CFS1, SAMPLE DATA).
GATEPASS = topic_for(E_GATEPASS_ISSUED, custodian_code="INNSA1CFS1")
HELD = "clearance.out-of-charge.held.v1"
SEAL_SOLD = "vendor.rfid-seal.sold.v1"
SEAL_RECONCILED = "clearance.seal-trip.reconciled.v1"
SEAL_ALERT = "clearance.seal-trip.alert-raised.v1"
DUTY_DEMAND = "clearance.duty-demand.raised.v1"
WATCHED = (GATEPASS, HELD, f"{FILED}.dlq", SEAL_RECONCILED, SEAL_ALERT, DUTY_DEMAND)
ADMINISTRATOR = {"X-Clearance-Subject": "test-administrator", "X-Clearance-Roles": "administrator"}


def new_bill_of_entry(be_type: str = "H", **overrides: Any) -> dict[str, Any]:
    """A realistic filing with a fresh BE number (AEO T2, duty paid, no first check)."""
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
    be["duty"] = {**be["duty"], "paid": True}
    if be_type == "W":
        be["warehouse_code"] = be.get("warehouse_code") or "MAA4W001"
        for container in be["containers"]:
            container["seal_no"] = new_seal_no()  # a one-time-lock is used once (SEAL-FMT-1)
    return {**be, **overrides}


def new_seal_no(brand: str = "ZSEL") -> str:
    """A fresh RFID seal number `ABCD XXXX XXXX` of a listed vendor (SAMPLE DATA list)."""
    digits = f"{random.randrange(10**8):08d}"
    return f"{brand} {digits[:4]} {digits[4:]}"


def tid_of(seal_no: str) -> str:
    """The TID the vendor recorded for a test seal (hexadecimal, 96 bits)."""
    return "E2801170" + hashlib.sha256(seal_no.encode()).hexdigest()[:16].upper()


def seal_sale(seal_no: str, warehouse_code: str, **changes: Any) -> dict[str, Any]:
    """A vendor's sale of a seal to a warehouse's licensee (SEAL-LINK-1)."""
    return {
        "seal_no": seal_no,
        "tid": tid_of(seal_no),
        "vendor_brand": seal_no[:4],
        "warehouse_code": warehouse_code,
        "sold_at": datetime.now(UTC).isoformat(),
        **changes,
    }


def key_of(be: dict[str, Any]) -> str:
    return f"{be['port_code']}/{be['be_no']}/{be['be_date']}"


class Listener:
    """Collects every record that appears on the watched topics from now on."""

    def __init__(self, bootstrap: str, topics: tuple[str, ...] = WATCHED) -> None:
        self.bootstrap = bootstrap
        self.topics = topics
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
        # On a loaded machine the fetcher's last request may time out as it is cancelled.
        with contextlib.suppress(KafkaError, asyncio.CancelledError):
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

    async def publish(self, event_type: str, data: dict[str, Any], source: str) -> CloudEvent:
        """Publish an event as the outside party that owns its topic would."""
        event = CloudEvent.new(event_type, source, event_key(event_type, data), data)
        await self.producer.send_and_wait(
            event_type,
            value=event.kafka_value(),
            key=event.kafka_key(),
            headers=event.kafka_headers(),
        )
        return event

    async def sell_seals(self, be: dict[str, Any]) -> None:
        """The vendors' sales of a warehousing BE's seals, linked to its warehouse
        (SEAL-LINK-1): warehouse-seal matches the BE against them (OOC-WH-1)."""
        for container in be.get("containers") or ():
            sale = seal_sale(container["seal_no"], be["warehouse_code"])
            await self.publish(SEAL_SOLD, sale, "/rfid-vendors/test-vendor")

    async def file(self, be: dict[str, Any], event: CloudEvent | None = None) -> CloudEvent:
        """Publish a filing as an ICEGATE-style upstream system would; for a warehousing BE,
        the seal vendors' sales of its seals first, as they come before a BE declares them."""
        if be.get("be_type") == "W" and be.get("warehouse_code"):
            await self.sell_seals(be)
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
