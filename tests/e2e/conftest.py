"""The whole pipeline for end-to-end tests: the five service processes of the
session (`service_processes`), plus a listener on the topics a test looks at, and the
session's identity provider behind `pipeline_harness.headers(...)`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from clearance_local.identity import IdentityProvider
from clearance_local.services import ServiceProcess
from clearance_local.stack import Endpoints
from pipeline_harness import Listener, Pipeline, use_identities


@pytest.fixture(scope="session", autouse=True)
def _tokens(identities: IdentityProvider) -> None:
    """Every e2e test's callers carry tokens of the test stack's Keycloak (`headers(...)`)."""
    use_identities(identities)


@pytest.fixture(scope="session")
async def pipeline(
    service_processes: dict[str, ServiceProcess], infra: Endpoints
) -> AsyncIterator[Pipeline]:
    listener = Listener(infra.kafka_bootstrap)
    await listener.start()
    pipe = Pipeline(service_processes, listener, infra)
    await pipe.producer.start()
    yield pipe
    await pipe.producer.stop()
    await listener.stop()
