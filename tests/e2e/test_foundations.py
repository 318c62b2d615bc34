"""The runtime's guarantees through the whole pipeline: a producer that hashes keys
another way, a BE left stuck by a dead letter, and a body that is not JSON."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from aiokafka.partitioner import DefaultPartitioner
from clearance_local.cli import dead_letters
from clearance_local.kafka import partitions_of
from clearance_runtime.envelope import CloudEvent
from pipeline_harness import FILED, GATEPASS, Pipeline, headers, key_of, new_bill_of_entry

pytestmark = pytest.mark.e2e


async def test_a_be_filed_on_a_foreign_hash_partition_still_clears_once(pipeline: Pipeline) -> None:
    """kcat (librdkafka) hashes keys with CRC32, not murmur2: the filing lands on another
    partition number than the BE's later events; it must clear exactly once all the same."""
    be = new_bill_of_entry("H")
    event = CloudEvent.new(FILED, "/icegate/kcat", key_of(be), be)
    partitions = await partitions_of(pipeline.infra.kafka_bootstrap, FILED)
    murmur = DefaultPartitioner()(event.kafka_key(), partitions, partitions)
    foreign = partitions[(partitions.index(murmur) + 1) % len(partitions)]
    await pipeline.facts_before(be)  # the importer's certificate and the carrier's arrival
    for _ in range(2):  # and a redelivery on that partition too
        await pipeline.producer.send_and_wait(
            FILED,
            value=event.kafka_value(),
            key=event.kafka_key(),
            headers=event.kafka_headers(),
            partition=foreign,
        )
    await pipeline.pay(be)
    [gatepass] = await pipeline.listener.wait_for(GATEPASS, key_of(be))
    assert orjson.loads(gatepass.value)["bill_of_entry_ref"]["be_no"] == be["be_no"]
    await asyncio.sleep(3)
    assert len(pipeline.listener.for_key(GATEPASS, key_of(be))) == 1


async def test_a_be_whose_event_was_dead_lettered_shows_as_stuck(pipeline: Pipeline) -> None:
    """The filing breaks its contract: dead-lettered with the reason, and the BE's status
    says it is stuck, with who gave up and why, until an operator replays it."""
    be = new_bill_of_entry("H")
    broken = {**be, "invoices": []}  # minItems 1: malformed, not a business rejection
    await pipeline.file(be, CloudEvent.new(FILED, "/icegate/test-upstream", key_of(be), broken))
    async with asyncio.timeout(60):
        # Operations staff see it: its filing was never read, so no filer is known for it.
        # The payment that follows the filing may be folded first (the view answers, not
        # yet stuck): the dead letter is written once the batch is split around the filing.
        while (response := await pipeline.status(be, role="officer")).status_code != 200 or (
            not response.json()["stuck"]
        ):
            await asyncio.sleep(0.2)
    view = response.json()
    assert view["stuck"] is True
    [letter] = view["dead_letters"]
    assert letter["consumer"] == "be-intake"
    assert letter["reason"].startswith("contract: icegate.bill-of-entry.filed.v1: $.invoices")
    assert await _stuck_gauge(pipeline) >= 1  # refreshed every few seconds
    listed = await dead_letters(pipeline.infra.kafka_bootstrap, replay=False, key=key_of(be))
    assert listed[-1] == "found 1 dead letters"
    assert "[be-intake] contract:" in listed[0]

    await pipeline.file(be)  # the upstream files it again, well-formed: it moves on
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
    async with asyncio.timeout(30):
        while (await pipeline.status(be, role="officer")).json()["stuck"]:
            await asyncio.sleep(0.2)


async def test_a_body_that_is_not_json_is_a_400_not_a_500(pipeline: Pipeline) -> None:
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        for body in (b"{not json", b"\xff\xfe", b""):
            response = await client.post(
                "/bills-of-entry",
                content=body,
                headers={"content-type": "application/json", **headers("filer")},
            )
            assert response.status_code == 400, body
            assert "not JSON" in response.json()["detail"]
        refused = await client.post("/bills-of-entry", json=[1, 2], headers=headers("filer"))
        assert refused.status_code == 400


async def _stuck_gauge(pipeline: Pipeline) -> float:
    """The be-intake gauge of stuck BEs, once it shows any."""
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=5) as client:
        async with asyncio.timeout(30):
            while True:
                for line in (await client.get("/metrics")).text.splitlines():
                    if line.startswith("clearance_stuck_bills_of_entry{") and float(
                        line.split()[-1]
                    ):
                        return float(line.split()[-1])
                await asyncio.sleep(0.5)
