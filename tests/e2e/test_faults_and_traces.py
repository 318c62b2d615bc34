"""Crash a service mid-stream (SIGKILL) and follow one BE's trace across services."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from clearance_runtime.envelope import CloudEvent
from pipeline_harness import (
    FILED,
    GATEPASS,
    Pipeline,
    disrupt_mid_stream,
    key_of,
    new_bill_of_entry,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("victim", ["bis-verifier", "ooc-issuer"])
@pytest.mark.timeout(300)  # 150 BEs, each filed after its importer's certificate is known
async def test_sigkill_mid_stream_loses_and_duplicates_nothing(
    pipeline: Pipeline, victim: str
) -> None:
    service = pipeline.services[victim]

    def crash_and_restart() -> None:
        service.kill()
        service.start()

    outcome = await disrupt_mid_stream(
        pipeline, crash_and_restart, count=150, flowing_after=20, timeout=60
    )
    assert 20 <= outcome.out_before < 150  # killed mid-stream, not after the last gatepass
    assert len(outcome.gatepasses) == 150  # every BE its gatepass
    assert outcome.twice == []


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
