"""Crash a service mid-stream (SIGKILL) and follow one BE's trace across services."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import orjson
import pytest
from clearance_runtime.envelope import CloudEvent
from pipeline_harness import FILED, GATEPASS, Pipeline, key_of, new_bill_of_entry

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("victim", ["bis-verifier", "ooc-issuer"])
async def test_sigkill_mid_stream_loses_and_duplicates_nothing(
    pipeline: Pipeline, victim: str
) -> None:
    bills = [new_bill_of_entry("H") for _ in range(150)]
    for be in bills:
        await pipeline.file(be)
    keys = {key_of(be) for be in bills}

    async with asyncio.timeout(60):  # kill once the stream is flowing
        while sum(1 for k in keys if pipeline.listener.for_key(GATEPASS, k)) < 20:
            await asyncio.sleep(0.05)
    service = pipeline.services[victim]
    service.kill()
    service.start()

    for key in keys:
        await pipeline.listener.wait_for(GATEPASS, key, timeout=120)
    await asyncio.sleep(3)  # let any duplicate surface
    for key in keys:
        records = pipeline.listener.for_key(GATEPASS, key)
        event_ids = {dict(r.headers)["ce_id"] for r in records}
        gatepass_numbers = {orjson.loads(r.value)["gatepass_no"] for r in records}
        # A relay killed between send and commit may resend: the same event, same id,
        # which custodians drop by its id. Never a second gatepass.
        assert len(event_ids) == 1, key
        assert len(gatepass_numbers) == 1, key


async def test_one_trace_follows_the_be_through_every_service(pipeline: Pipeline) -> None:
    trace_id = secrets.token_hex(16)
    be = new_bill_of_entry("W")
    event = await pipeline.file(
        be,
        event=_traced(be, f"00-{trace_id}-{secrets.token_hex(8)}-01"),
    )
    [gatepass] = await pipeline.listener.wait_for(GATEPASS, key_of(be))
    assert dict(gatepass.headers)["traceparent"].decode().split("-")[1] == trace_id
    assert event.traceparent is not None

    expected = {"be-intake", "bis-verifier", "rms-router", "warehouse-seal", "ooc-issuer"}
    services: set[str] = set()
    spans: list[dict[str, object]] = []
    async with httpx.AsyncClient(base_url=pipeline.infra.zipkin_url, timeout=5) as client:
        for _ in range(60):
            response = await client.get(f"/api/v2/trace/{trace_id}")
            if response.status_code == 200:
                spans = response.json()
                services = {s["localEndpoint"]["serviceName"] for s in spans}
                if expected <= services:
                    break
            await asyncio.sleep(0.5)
    assert expected <= services
    tagged = [s for s in spans if s.get("tags", {}).get("clearance.bill_of_entry") == key_of(be)]
    assert {s["localEndpoint"]["serviceName"] for s in tagged} >= expected


def _traced(be: dict[str, Any], traceparent: str) -> CloudEvent:
    return CloudEvent.new(FILED, "/icegate/test-upstream", key_of(be), be).with_trace(
        {"traceparent": traceparent}
    )
