"""Restart PostgreSQL or Kafka under load: nothing is lost, nothing is issued twice.

These tests restart infrastructure, so they run on a stack of their own (the
`faults` profile, started by the local provisioner), never on the shared one. Its services
accept the tokens of the session's identity provider (the `test` stack's Keycloak, started
once per session), so the stack starts no Keycloak of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from clearance_local.config import StackConfig
from clearance_local.identity import IdentityProvider
from clearance_local.process import terminate
from clearance_local.stack import Stack
from pipeline_harness import Listener, Pipeline, disrupt_mid_stream

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def fault_stack(identities: IdentityProvider) -> Iterator[Stack]:
    del identities  # the session's Keycloak runs: the fault stack's services trust it
    stack = Stack(
        StackConfig.from_env("faults"), keycloak=Stack(StackConfig.from_env("test")).keycloak
    )
    stack.up(log=lambda _line: None)
    yield stack
    stack.down()


@pytest.fixture
async def fault_pipeline(fault_stack: Stack) -> AsyncIterator[Pipeline]:
    listener = Listener(fault_stack.kafka.bootstrap, security=fault_stack.kafka.admin_security)
    await listener.start()
    pipe = Pipeline(fault_stack.services, listener, fault_stack.endpoints)
    await pipe.producer.start()
    yield pipe
    await pipe.producer.stop()
    await listener.stop()


async def test_postgres_restart_mid_stream_loses_and_duplicates_nothing(
    fault_stack: Stack, fault_pipeline: Pipeline
) -> None:
    def restart() -> None:
        fault_stack.postgres.stop()
        fault_stack.postgres.start()

    outcome = await disrupt_mid_stream(
        fault_pipeline, restart, count=120, flowing_after=10, timeout=120
    )
    assert 10 <= outcome.out_before < 120  # restarted mid-stream
    assert len(outcome.gatepasses) == 120  # every BE its gatepass
    assert outcome.twice == []


async def test_kafka_restart_mid_stream_loses_and_duplicates_nothing(
    fault_stack: Stack, fault_pipeline: Pipeline
) -> None:
    def restart() -> None:
        terminate(fault_stack.kafka.pid_path, timeout=60)
        fault_stack.kafka.start()

    outcome = await disrupt_mid_stream(
        fault_pipeline, restart, count=120, flowing_after=10, timeout=120
    )
    assert 10 <= outcome.out_before < 120  # restarted mid-stream
    assert len(outcome.gatepasses) == 120  # every BE its gatepass
    assert outcome.twice == []
