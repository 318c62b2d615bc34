"""The whole pipeline for end-to-end tests: the five service processes of the
session (`service_processes`), plus a listener on the topics a test looks at."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from clearance_local.identity import IdentityProvider
from clearance_local.services import ServiceProcess
from clearance_local.stack import Endpoints
from pipeline_harness import Listener, Pipeline


@pytest.fixture(scope="session")
async def pipeline(
    service_processes: dict[str, ServiceProcess],
    infra: Endpoints,
    identities: IdentityProvider,
) -> AsyncIterator[Pipeline]:
    listener = Listener(infra.kafka_bootstrap, infra.kafka_admin)
    await listener.start()
    pipe = Pipeline(service_processes, listener, infra, identities)
    await pipe.producer.start()
    yield pipe
    await pipe.producer.stop()
    await listener.stop()
