"""Pytest fixtures giving real Kafka and PostgreSQL to integration and e2e tests, the BIS
registry server, and the session's five service processes.

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
from clearance_runtime.kafka import KafkaSecurity

from clearance_local import images
from clearance_local.bis_registry import BisRegistry
from clearance_local.config import SERVICE_SCHEMAS, StackConfig
from clearance_local.identity import IdentityProvider
from clearance_local.kafka import ensure_topics
from clearance_local.postgres import (
    ensure_database,
    provision_database,
    service_dsn,
    service_passwords,
)
from clearance_local.process import free_port
from clearance_local.secrets import Secrets
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
    return Endpoints(
        kafka,
        dsn,
        os.environ.get("CLEARANCE_TEST_ZIPKIN_URL", ""),
        service_db_passwords=_test_passwords(),
    )


def _test_passwords() -> dict[str, str]:
    """Service role passwords for a server the tests did not start (generated, kept)."""
    return service_passwords(Secrets(StackConfig.from_env("test").secrets_dir))


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
    # Containers are a CI convenience without the broker's SASL or generated passwords;
    # the local provisioner (below) is the secured stack the tests normally run on.
    test_secrets = Secrets(StackConfig.from_env("test").secrets_dir)
    postgres = images.postgres_environment(test_secrets.password("postgres-admin"))
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
        yield Endpoints(f"127.0.0.1:{kafka_port}", dsn, url, service_db_passwords=_test_passwords())


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
    # The test process itself is the Kafka administrator: clients the tests make without
    # naming credentials read them from CLEARANCE_KAFKA_* (clearance_runtime.kafka);
    # every service process gets its own principal instead (ServiceProcess.env).
    os.environ.update(endpoints.kafka_admin.as_env())
    yield endpoints
    if not os.environ.get("CLEARANCE_TEST_KEEP_STACK"):
        stack.down()


def _prepare(endpoints: Endpoints) -> None:
    """What `up` does for its own stack: database, roles, schemas, topics."""
    admin_dsn = endpoints.postgres_admin_dsn
    asyncio.run(ensure_database(admin_dsn.rsplit("/", 1)[0] + "/postgres"))
    asyncio.run(provision_database(admin_dsn, passwords=endpoints.service_db_passwords))
    asyncio.run(
        ensure_topics(
            endpoints.kafka_bootstrap,
            platform_topics(3),
            platform_topic_configs(),
            endpoints.kafka_admin,
        )
    )


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: Endpoints) -> str:
    return infra.kafka_bootstrap


@pytest.fixture(scope="session")
def postgres_admin_dsn(infra: Endpoints) -> str:
    return infra.postgres_admin_dsn


@pytest.fixture(scope="session")
def bis_registry() -> Iterator[BisRegistry]:
    """The BIS registry server (the real register, sample CM/L licences) as a process of
    the session: what bis-verifier calls. A test may stop it (a registry outage), and
    must start it again."""
    registry = BisRegistry(StackConfig.from_env("test"), free_port(0))
    registry.stop()  # a leftover of an interrupted run, if any
    registry.start()
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def service_processes(
    infra: Endpoints, bis_registry: BisRegistry
) -> Iterator[dict[str, ServiceProcess]]:
    """The five services as processes on the test infrastructure, migrated and ready.

    One set per session, shared by every suite that needs the pipeline, so no
    two sets of consumers compete in one consumer group. bis-verifier reaches the
    session's BIS registry; it retries a registry that does not answer within
    seconds, so an outage test recovers quickly.
    """
    config = StackConfig.from_env("test")
    services = {
        name: ServiceProcess.of(
            name,
            package,
            free_port(0),
            config,
            infra,
            # Tests may move each service's clock (POST /admin/clock): timers, deadlines.
            extra_env={
                "CLEARANCE_OUTBOX_POLL_INTERVAL_S": "0.5",
                "CLEARANCE_CLOCK_CONTROL": "true",
                "CLEARANCE_BIS_PENDING_MAX_BACKOFF_S": "2",
                "CLEARANCE_BIS_REGISTRY_BREAKER_RESET_S": "2",
                "CLEARANCE_BIS_REGISTRY_URL": bis_registry.url,
            },
        )
        for name, package in SERVICES
    }
    for service in services.values():
        service.stop()  # a leftover of an interrupted run, if any
        service.start(wait=False, migrate=True)
    try:
        for service in services.values():
            service.wait_ready(timeout=240)  # a loaded 2-core machine starts slowly
        yield services
    finally:
        for service in services.values():
            service.stop()


@pytest.fixture(scope="session")
def service_dsns(infra: Endpoints) -> dict[str, str]:
    """Per service schema: the DSN of the login role confined to that schema."""
    return {
        schema: service_dsn(infra.postgres_admin_dsn, schema, infra.service_db_passwords[schema])
        for schema in SERVICE_SCHEMAS
    }


@pytest.fixture(scope="session")
def kafka_admin(infra: Endpoints) -> KafkaSecurity:
    """The Kafka administrator's credentials (a super user): for test clients that read or
    write any topic, as the harness does."""
    return infra.kafka_admin


@pytest.fixture(scope="session")
def identities(infra: Endpoints) -> Iterator[IdentityProvider]:
    """Bearer tokens from the stack's identity provider: `identities.headers("officer",
    location="INNSA1")` are the headers of an officer of INNSA1 (the user is made once)."""
    provider = IdentityProvider(infra.keycloak_url, infra.keycloak_admin_password)
    yield provider
    provider.close()
