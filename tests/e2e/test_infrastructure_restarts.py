"""Restart PostgreSQL or Kafka under load: nothing is lost, nothing is issued twice.

These tests restart infrastructure, so they run on a stack of their own (the
`faults` profile, started by the local provisioner), never on the shared one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import orjson
import pytest
from clearance_local.config import StackConfig
from clearance_local.process import terminate
from clearance_local.stack import Stack
from pipeline_harness import GATEPASS, Listener, Pipeline, key_of, new_bill_of_entry

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def fault_stack() -> Iterator[Stack]:
    stack = Stack(StackConfig.from_env("faults"))
    stack.up(log=lambda _line: None)
    yield stack
    stack.down()


@pytest.fixture
async def fault_pipeline(fault_stack: Stack) -> AsyncIterator[Pipeline]:
    listener = Listener(fault_stack.kafka.bootstrap)
    await listener.start()
    pipe = Pipeline(fault_stack.services, listener, fault_stack.endpoints)
    await pipe.producer.start()
    yield pipe
    await pipe.producer.stop()
    await listener.stop()


async def _restart_mid_stream(pipeline: Pipeline, restart: Callable[[], None]) -> None:
    bills = [new_bill_of_entry("H") for _ in range(120)]
    for be in bills:
        await pipeline.file(be)
    keys = {key_of(be) for be in bills}
    async with asyncio.timeout(120):  # restart once the stream is flowing
        while sum(1 for k in keys if pipeline.listener.for_key(GATEPASS, k)) < 10:
            await asyncio.sleep(0.05)
    await asyncio.to_thread(restart)
    for key in keys:
        await pipeline.listener.wait_for(GATEPASS, key, timeout=180)
    await asyncio.sleep(3)  # let any duplicate surface
    for key in keys:
        records = pipeline.listener.for_key(GATEPASS, key)
        assert len({dict(r.headers)["ce_id"] for r in records}) == 1, key
        assert len({orjson.loads(r.value)["gatepass_no"] for r in records}) == 1, key


async def test_postgres_restart_mid_stream_loses_and_duplicates_nothing(
    fault_stack: Stack, fault_pipeline: Pipeline
) -> None:
    def restart() -> None:
        fault_stack.postgres.stop()
        fault_stack.postgres.start()

    await _restart_mid_stream(fault_pipeline, restart)


async def test_kafka_restart_mid_stream_loses_and_duplicates_nothing(
    fault_stack: Stack, fault_pipeline: Pipeline
) -> None:
    def restart() -> None:
        terminate(fault_stack.kafka.pid_path, timeout=60)
        fault_stack.kafka.start()

    await _restart_mid_stream(fault_pipeline, restart)
