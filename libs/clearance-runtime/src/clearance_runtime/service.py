"""One service process: HTTP app, consumer loop and outbox relay on one event loop.

A service's `bootstrap.py` builds a `ServiceRuntime` from its settings, its
handler table and its migrations, and adds its HTTP routes; this module does
the rest (operational endpoints, start-up that waits for Kafka and
PostgreSQL, graceful shutdown that finishes the batch in hand).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clearance_runtime import migrations
from clearance_runtime.consumer import EventConsumer, Handler
from clearance_runtime.database import create_engine, session_factory
from clearance_runtime.dead_letter import DeadLetters
from clearance_runtime.kafka import idempotent_producer, manual_commit_consumer
from clearance_runtime.logs import configure_logging
from clearance_runtime.outbox import OutboxRelay
from clearance_runtime.settings import ServiceSettings
from clearance_runtime.tracing import configure_tracing, instrument_app
from clearance_runtime.unit_of_work import UnitOfWorkFactory, unit_of_work_factory

log = logging.getLogger(__name__)


class ServiceRuntime:
    """Everything a service shares with the others, wired for one service."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        handlers: Mapping[str, Handler],
        migrations_path: Path,
    ) -> None:
        self.settings = settings
        self.handlers = handlers
        self.migrations_path = migrations_path
        self.engine: AsyncEngine = create_engine(settings)
        self.sessions = session_factory(self.engine)
        self.unit_of_work: UnitOfWorkFactory = unit_of_work_factory(
            self.sessions, source=f"/clearance/{settings.service_name}", schema=settings.db_schema
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def topics(self) -> list[str]:
        """Consumed topics: each event type's topic carries its name."""
        return sorted(self.handlers)

    async def migrate(self) -> None:
        await migrations.upgrade(self.engine, self.migrations_path, self.settings.db_schema)

    async def start(self) -> None:
        """Connect to Kafka (waiting for it if need be) and start consumer and relay."""
        s = self.settings
        self._stop = asyncio.Event()
        self._producer = idempotent_producer(s.kafka_bootstrap, f"{s.service_name}-producer")
        await _start_when_reachable(self._producer, "producer")
        relay = OutboxRelay(
            service=s.service_name,
            schema=s.db_schema,
            engine=self.engine,
            listen_dsn=s.asyncpg_dsn,
            producer=self._producer,
            batch_size=s.outbox_batch_size,
            poll_interval_s=s.outbox_poll_interval_s,
            retention_s=s.outbox_retention_s,
        )
        self._tasks.append(asyncio.create_task(relay.run(self._stop), name="outbox-relay"))
        if self.handlers:
            self._consumer = manual_commit_consumer(
                s.kafka_bootstrap, s.service_name, self.topics, f"{s.service_name}-consumer"
            )
            await _start_when_reachable(self._consumer, "consumer")
            consumer = EventConsumer(
                service=s.service_name,
                consumer=self._consumer,
                handlers=self.handlers,
                unit_of_work=self.unit_of_work,
                dead_letters=DeadLetters(s.service_name, self._producer),
                batch_size=s.consumer_batch_size,
                fetch_timeout_ms=s.consumer_fetch_timeout_ms,
                max_attempts=s.handler_max_attempts,
                retry_backoff_s=s.handler_retry_backoff_s,
            )
            self._tasks.append(asyncio.create_task(consumer.run(self._stop), name="consumer"))

    async def stop(self) -> None:
        """Finish the batch in hand, commit, leave the group, flush the producer."""
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        await self.engine.dispose()

    async def ready(self) -> dict[str, bool]:
        checks = {"database": False, "kafka": self._producer is not None}
        with contextlib.suppress(Exception):
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
                checks["database"] = True
        if self._consumer is not None:
            checks["consumer_assigned"] = bool(self._consumer.assignment())
        checks["tasks_running"] = all(not task.done() for task in self._tasks)
        return checks

    def app(self, *, title: str, routers: Sequence[APIRouter] = ()) -> FastAPI:
        """The service's FastAPI app: its routes plus `/healthz`, `/readyz`, `/metrics`."""

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            yield
            await self.stop()

        app = FastAPI(title=title, lifespan=lifespan)
        app.include_router(self._operational_routes())
        for router in routers:
            app.include_router(router)
        instrument_app(app)
        return app

    def _operational_routes(self) -> APIRouter:
        router = APIRouter(tags=["operations"])

        @router.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.settings.service_name}

        @router.get("/readyz")
        async def readyz(response: Response) -> dict[str, bool]:
            checks = await self.ready()
            response.status_code = 200 if all(checks.values()) else 503
            return checks

        @router.get("/metrics")
        async def prometheus() -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        return router


async def _start_when_reachable(client: AIOKafkaProducer | AIOKafkaConsumer, what: str) -> None:
    delay = 0.5
    while True:
        try:
            await client.start()
            return
        except KafkaError as error:
            log.warning("Kafka %s cannot start yet (%s); retrying", what, error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def run_cli(build: Callable[[], tuple[ServiceRuntime, FastAPI]], settings: ServiceSettings) -> None:
    """`python -m <service> [serve|migrate]`: the entry point of every service."""
    parser = argparse.ArgumentParser(prog=settings.service_name)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)
    runtime, app = build()
    if args.command == "migrate":
        asyncio.run(_migrate(runtime))
        return
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )
    uvicorn.Server(config).run()
    sys.exit(0)


async def _migrate(runtime: ServiceRuntime) -> None:
    await runtime.migrate()
    await runtime.engine.dispose()
