"""The whole pipeline for end-to-end tests: five service processes on real Kafka,
PostgreSQL and Zipkin, plus a listener on the topics a test looks at."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from clearance_local.config import StackConfig
from clearance_local.process import free_port
from clearance_local.services import SERVICES, ServiceProcess
from clearance_local.stack import Endpoints
from pipeline_harness import Listener, Pipeline


@pytest.fixture(scope="session")
def service_processes(infra: Endpoints) -> Iterator[dict[str, ServiceProcess]]:
    config = StackConfig.from_env("test")
    services = {
        name: ServiceProcess(
            name=name,
            package=package,
            port=free_port(0),
            config=config,
            kafka_bootstrap=infra.kafka_bootstrap,
            postgres_admin_dsn=infra.postgres_admin_dsn,
            zipkin_url=infra.zipkin_url,
            extra_env={"CLEARANCE_OUTBOX_POLL_INTERVAL_S": "0.5"},
        )
        for name, package in SERVICES
    }
    for service in services.values():
        service.migrate()
    for service in services.values():
        service.start(wait=False)
    for service in services.values():
        service.wait_ready()
    yield services
    for service in services.values():
        service.stop()


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
