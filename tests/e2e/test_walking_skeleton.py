"""One Bill of Entry through all five services, and the delivery guarantees around it."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from clearance_runtime.envelope import CloudEvent
from pipeline_harness import FILED, GATEPASS, HELD, Pipeline, headers, key_of, new_bill_of_entry

pytestmark = pytest.mark.e2e


async def test_a_home_consumption_be_ends_as_one_e_gatepass(pipeline: Pipeline) -> None:
    """OOC-AUTO-1, OOC-GP-1: AEO T2, facilitated, duty paid -> automatic OOC + e-Gatepass."""
    be = new_bill_of_entry("H")
    await pipeline.file(be)

    [gatepass] = await pipeline.listener.wait_for(GATEPASS, key_of(be))
    body = orjson.loads(gatepass.value)
    assert body["bill_of_entry_ref"] == {
        **{k: be[k] for k in ("port_code", "be_no", "be_date")},
        "version": 1,
    }
    assert body["iec"] == be["iec"]
    assert dict(gatepass.headers)["ce_type"] == b"custodian.e-gatepass.issued.v1"

    status = (await pipeline.status(be)).json()
    for _ in range(50):  # be-intake folds the gatepass shortly after it is published
        if status["gatepass_no"]:
            break
        await asyncio.sleep(0.1)
        status = (await pipeline.status(be)).json()
    assert status["status"] == "gatepass_issued"
    assert status["gatepass_no"] == body["gatepass_no"]
    assert status["out_of_charge_no"] == body["ooc_no"]


async def test_a_warehousing_be_also_passes_warehouse_seal(pipeline: Pipeline) -> None:
    """INTAKE-BE-2, SEAL-FMT-1, OOC-WH-1: warehoused goods clear after seal reconciliation."""
    be = new_bill_of_entry("W")
    await pipeline.file(be)
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
    history = (await pipeline.status(be)).json()["history"]
    assert "clearance.seal-trip.reconciled.v1" in [entry["event_type"] for entry in history]


async def test_the_same_event_delivered_three_times_gives_one_be_and_one_gatepass(
    pipeline: Pipeline,
) -> None:
    be = new_bill_of_entry("H")
    event = CloudEvent.new(FILED, "/icegate/test-upstream", key_of(be), be)
    for _ in range(3):
        await pipeline.file(be, event)
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
    await asyncio.sleep(3)  # time for any duplicate to surface
    assert len(pipeline.listener.for_key(GATEPASS, key_of(be))) == 1
    history = (await pipeline.status(be)).json()["history"]
    assert [h["event_type"] for h in history].count("clearance.bill-of-entry.registered.v1") == 1


async def test_a_malformed_event_is_dead_lettered_and_the_next_be_still_clears(
    pipeline: Pipeline,
) -> None:
    bad_key = "INNSA1/0000000/2026-01-01"
    await pipeline.producer.send_and_wait(
        FILED,
        value=b'{"this is": "not a bill of entry"',
        key=bad_key.encode(),
        headers=[("ce_id", b"broken-1"), ("ce_type", FILED.encode())],
    )
    be = new_bill_of_entry("H")
    await pipeline.file(be)

    [dead] = await pipeline.listener.wait_for(f"{FILED}.dlq", bad_key)
    headers = dict(dead.headers)
    assert headers["dlq_reason"].decode().startswith("malformed: missing CloudEvents headers")
    assert headers["dlq_consumer"] == b"be-intake"
    await pipeline.listener.wait_for(GATEPASS, key_of(be))


async def test_an_invalid_be_is_rejected_with_a_rule_cited_reason(pipeline: Pipeline) -> None:
    be = new_bill_of_entry("H", iec="12AB")
    await pipeline.file(be)
    for _ in range(100):
        response = await pipeline.status(be)
        if response.status_code == 200:
            break
        await asyncio.sleep(0.1)
    status = response.json()
    assert status["status"] == "rejected"
    assert status["reasons"][0]["rule_id"] == "INTAKE-IEC-1"


async def test_a_be_not_eligible_for_automatic_ooc_is_held_with_its_reason(
    pipeline: Pipeline,
) -> None:
    be = await pipeline.not_interdicted(new_bill_of_entry("H", aeo_tier=None))
    await pipeline.file(be)
    # Held as soon as the facts are in, and again when the payment lands: each says why.
    held, *_ = await pipeline.listener.wait_for(HELD, key_of(be))
    reasons = orjson.loads(held.value)["reasons"]
    assert any(r["rule_id"] == "OOC-AUTO-1" for r in reasons)
    assert pipeline.listener.for_key(GATEPASS, key_of(be)) == []


async def test_a_be_filed_over_http_takes_the_same_path(pipeline: Pipeline) -> None:
    be = new_bill_of_entry("H")
    await pipeline.facts_before(be)
    filer = headers("filer")
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        accepted = await client.post("/bills-of-entry", json=be, headers=filer)
        again = await client.post("/bills-of-entry", json=be, headers=filer)
        invalid = await client.post("/bills-of-entry", json={**be, "be_type": "Q"}, headers=filer)
    await pipeline.pay(be)
    assert accepted.status_code == 202
    assert accepted.json()["status_url"] == f"/bills-of-entry/{key_of(be)}"
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert invalid.status_code == 400
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
