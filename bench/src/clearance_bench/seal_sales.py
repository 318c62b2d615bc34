"""The RFID seal vendors' sales behind the day's warehousing BEs, loaded before the clock.

warehouse-seal matches the warehouse code of a warehousing BE against the
warehouse each declared seal was sold to (SEAL-LINK-1, OOC-WH-1) and waits for
the sale when it is not known yet. Seals are sold days before a BE declares
them, so the benchmark publishes the sales of the day's seals first (as the
vendors, `vendor.rfid-seal.sold.v1`) and starts timing once warehouse-seal has
taken them all: the day measured is the BEs', as before.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.kafka import client_options, idempotent_producer

from clearance_bench.load import Log, Message
from clearance_bench.workload import Filing

SOLD = "vendor.rfid-seal.sold.v1"
VENDOR_SOURCE = "/rfid-vendors/bench"
CONSUMER_GROUP = "warehouse-seal"


def seal_sales(filings: Sequence[Filing]) -> list[Message]:
    """A sale per RFID seal of the valid warehousing BEs, linked to the BE's warehouse."""
    messages = []
    for filing in filings:
        be = filing.bill_of_entry
        if be["be_type"] != "W" or not be.get("warehouse_code"):
            continue
        sold_at = datetime.fromisoformat(be["filed_at"]) - timedelta(days=3)
        for container in be.get("containers") or ():
            seal_no = container["seal_no"]
            data = {
                "seal_no": seal_no,
                "tid": hashlib.sha256(seal_no.encode()).hexdigest()[:24].upper(),
                "vendor_brand": seal_no[:4],
                "warehouse_code": be["warehouse_code"],
                "sold_at": sold_at.isoformat(),
            }
            event = CloudEvent.new(SOLD, VENDOR_SOURCE, seal_no, data)
            messages.append(
                Message(event.kafka_key(), event.kafka_value(), tuple(event.kafka_headers()))
            )
    return messages


async def preload(bootstrap: str, messages: Sequence[Message], log: Log, timeout_s: float) -> None:
    """Publish the sales and wait until warehouse-seal has committed past all of them."""
    if not messages:
        return
    producer = idempotent_producer(bootstrap, "bench-rfid-vendors")
    await producer.start()
    try:
        for message in messages:
            await producer.send(
                SOLD, value=message.value, key=message.key, headers=list(message.headers)
            )
        await producer.flush()
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **client_options())
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await consumer.start()
    await admin.start()
    try:
        partitions = [TopicPartition(SOLD, p) for p in consumer.partitions_for_topic(SOLD) or ()]
        ends = await consumer.end_offsets(partitions)
        async with asyncio.timeout(timeout_s):
            while True:
                committed = await admin.list_consumer_group_offsets(CONSUMER_GROUP)
                behind = sum(
                    max(0, end - (committed[tp].offset if tp in committed else 0))
                    for tp, end in ends.items()
                )
                if behind == 0:
                    break
                await asyncio.sleep(0.5)
    finally:
        await admin.close()
        await consumer.stop()
    log(f"seal sales: {len(messages):,} sales taken by warehouse-seal before the clock starts")
