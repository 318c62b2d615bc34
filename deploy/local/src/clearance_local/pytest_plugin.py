"""Pytest fixtures giving real Kafka and PostgreSQL to integration and e2e tests.

Where the addresses come from, in order:
1. the environment (`CLEARANCE_TEST_KAFKA_BOOTSTRAP`, `CLEARANCE_TEST_POSTGRES_DSN`,
   optionally `CLEARANCE_TEST_ZIPKIN_URL`), e.g. a CI service;
2. Testcontainers, where a Docker engine answers;
3. the local provisioner (profile `test`, its own data folder and free ports).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator

import pytest

from clearance_local import images
from clearance_local.config import SERVICE_SCHEMAS, StackConfig
from clearance_local.kafka import ensure_topics
from clearance_local.postgres import (
    ADMIN_PASSWORD,
    ensure_database,
    provision_database,
    service_dsn,
)
from clearance_local.process import free_port
from clearance_local.services import SERVICES, ServiceProcess
from clearance_local.stack import Endpoints, Stack
from clearance_local.topics import platform_topic_configs, platform_topics


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave `slow` tests out of the default run (deselected, not skipped)."""
    if config.getoption("--run-slow") or config.getoption("-m"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


def _from_environment() -> Endpoints | None:
    kafka = os.environ.get("CLEARANCE_TEST_KAFKA_BOOTSTRAP")
    dsn = os.environ.get("CLEARANCE_TEST_POSTGRES_DSN")
    if not (kafka and dsn):
        return None
    return Endpoints(kafka, dsn, os.environ.get("CLEARANCE_TEST_ZIPKIN_URL", ""))


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def _from_testcontainers() -> Iterator[Endpoints]:
    """Kafka, PostgreSQL and Zipkin as containers: the images and settings of the Compose file
    (`clearance_local.images`, one source for both)."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy
    from testcontainers.postgres import PostgresContainer

    # Kafka tells clients the address it is reached at: bind a known host port first.
    kafka_port = free_port(0)
    kafka = DockerContainer(images.KAFKA.ref).with_bind_ports(images.KAFKA_CLIENT_PORT, kafka_port)
    for key, value in images.kafka_environment(f"127.0.0.1:{kafka_port}").items():
        kafka = kafka.with_env(key, value)
    kafka = kafka.waiting_for(LogMessageWaitStrategy("Kafka Server started"))
    zipkin = DockerContainer(images.ZIPKIN.ref).with_exposed_ports(images.ZIPKIN_PORT)
    for key, value in images.zipkin_environment().items():
        zipkin = zipkin.with_env(key, value)
    postgres = images.postgres_environment(ADMIN_PASSWORD)
    with (
        kafka,
        PostgresContainer(
            images.POSTGRES.ref,
            username=postgres["POSTGRES_USER"],
            password=postgres["POSTGRES_PASSWORD"],
            dbname=postgres["POSTGRES_DB"],
        ) as pg,
        zipkin,
    ):
        dsn = pg.get_connection_url(driver=None)
        url = (
            f"http://{zipkin.get_container_host_ip()}:{zipkin.get_exposed_port(images.ZIPKIN_PORT)}"
        )
        yield Endpoints(f"127.0.0.1:{kafka_port}", dsn, url)


@pytest.fixture(scope="session")
def infra() -> Iterator[Endpoints]:
    """Addresses of a running Kafka, PostgreSQL (platform database) and Zipkin."""
    given = _from_environment()
    if given is not None:
        _prepare(given)
        yield given
        return
    if _docker_answers():
        with _from_testcontainers() as endpoints:
            _prepare(endpoints)
            yield endpoints
        return
    stack = Stack(StackConfig.from_env("test"))
    endpoints = stack.up(log=lambda _line: None, services=False)
    yield endpoints
    if not os.environ.get("CLEARANCE_TEST_KEEP_STACK"):
        stack.down()


def _prepare(endpoints: Endpoints) -> None:
    """What `up` does for its own stack: database, roles, schemas, topics."""
    admin_dsn = endpoints.postgres_admin_dsn
    asyncio.run(ensure_database(admin_dsn.rsplit("/", 1)[0] + "/postgres"))
    asyncio.run(provision_database(admin_dsn))
    asyncio.run(
        ensure_topics(endpoints.kafka_bootstrap, platform_topics(3), platform_topic_configs())
    )


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: Endpoints) -> str:
    return infra.kafka_bootstrap


@pytest.fixture(scope="session")
def postgres_admin_dsn(infra: Endpoints) -> str:
    return infra.postgres_admin_dsn


@pytest.fixture(scope="session")
def service_processes(infra: Endpoints) -> Iterator[dict[str, ServiceProcess]]:
    """The five services as processes on the test infrastructure, migrated and ready.

    One set per session, shared by every suite that needs the pipeline, so no
    two sets of consumers compete in one consumer group.
    """
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
            # Tests may move each service's clock (POST /admin/clock): timers, deadlines.
            extra_env={
                "CLEARANCE_OUTBOX_POLL_INTERVAL_S": "0.5",
                "CLEARANCE_CLOCK_CONTROL": "true",
            },
        )
        for name, package in SERVICES
    }
    for service in services.values():
        service.stop()  # a leftover of an interrupted run, if any
        service.start(wait=False, migrate=True)
    try:
        for service in services.values():
            service.wait_ready()
        yield services
    finally:
        for service in services.values():
            service.stop()


@pytest.fixture(scope="session")
def service_dsns(infra: Endpoints) -> dict[str, str]:
    """Per service schema: the DSN of the login role confined to that schema."""
    return {schema: service_dsn(infra.postgres_admin_dsn, schema) for schema in SERVICE_SCHEMAS}
