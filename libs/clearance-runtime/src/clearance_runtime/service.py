"""One service process: HTTP app, consumer, outbox relay, timers and deliveries on one loop.

A service's `bootstrap.py` builds a `ServiceRuntime` from its settings and its
`ServiceParts` (handler tables, unit of work, policies, senders) and adds its
HTTP routes; this module does the rest: operational endpoints, the
administration API, start-up that waits for Kafka and PostgreSQL, and
graceful shutdown that finishes the batch in hand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic

import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import APIRouter, FastAPI, Response
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clearance_runtime import migrations
from clearance_runtime.access import AuthConfig, TokenVerifier
from clearance_runtime.admin import clock_routes, policy_routes
from clearance_runtime.clock import Clock, ControllableClock, SystemClock
from clearance_runtime.consumer import EventConsumer, Handler, RawHandler
from clearance_runtime.database import create_engine, session_factory
from clearance_runtime.deliveries import Backoff, DeliveryWorker, Sender
from clearance_runtime.kafka import KafkaSecurity, idempotent_producer, manual_commit_consumer
from clearance_runtime.logs import configure_logging
from clearance_runtime.outbox import OutboxRelay
from clearance_runtime.pause import pause
from clearance_runtime.policies import Policies, PolicyKind, PolicyStore
from clearance_runtime.settings import ServiceSettings
from clearance_runtime.timers import TimerHandler, TimerWorker
from clearance_runtime.tracing import configure_tracing, instrument_app
from clearance_runtime.unit_of_work import SqlUnitOfWork, U, unit_of_work_factory
from clearance_runtime.web import (
    BodyLimit,
    MediaTypeCheck,
    document_problems,
    install_problem_handlers,
)

log = logging.getLogger(__name__)
_CLOCK_OFFSET = text("SELECT offset_seconds FROM runtime_clock")
_REMEMBER_CLOCK = text(
    "INSERT INTO runtime_clock (offset_seconds) VALUES (:offset) "
    "ON CONFLICT (singleton) DO UPDATE SET offset_seconds = EXCLUDED.offset_seconds"
)


@dataclass
class ServiceParts(Generic[U]):
    """What a service brings to the runtime; everything but the handlers is optional."""

    handlers: Mapping[str, Handler] = field(default_factory=dict)
    raw_handlers: Mapping[str, RawHandler] = field(default_factory=dict)
    timer_handlers: Mapping[str, TimerHandler] = field(default_factory=dict)
    senders: Mapping[str, Sender] = field(default_factory=dict)
    unit_of_work: Callable[..., U] = SqlUnitOfWork  # type: ignore[assignment]
    render_events: Callable[[Any, Any], None] | None = None
    policy_kinds: Sequence[PolicyKind[Any]] = ()
    policies_path: Path | None = None
    # Called after the policy book changed: at start-up once the files are stored, after an
    # administrator added a version, when a refresh finds the table changed (another
    # replica). E.g. rms-router publishing what others must know of its rule sets (through
    # its outbox, once per version: the callee makes it idempotent).
    policies_changed: Callable[[], Awaitable[None]] | None = None


def clock_from(settings: ServiceSettings) -> Clock:
    """The system clock, or (tests, replays) one an administrator may move."""
    if not settings.clock_control:
        return SystemClock()
    start = datetime.fromisoformat(settings.clock_start) if settings.clock_start else None
    return ControllableClock(start, frozen=False)


class ServiceRuntime(Generic[U]):
    """Everything a service shares with the others, wired for one service."""

    def __init__(
        self,
        settings: ServiceSettings,
        parts: ServiceParts[U],
        *,
        migrations_path: Path,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.parts = parts
        self.migrations_path = migrations_path
        self.clock = clock or clock_from(settings)
        self.engine: AsyncEngine = create_engine(settings)
        self.sessions = session_factory(self.engine)
        self.unit_of_work = unit_of_work_factory(
            self.sessions,
            source=f"/clearance/{settings.service_name}",
            schema=settings.db_schema,
            clock=self.clock,
            kind=parts.unit_of_work,
            render_events=parts.render_events,
        )
        self.kafka_security = KafkaSecurity.from_settings(settings)
        self.token_verifier = token_verifier(settings)
        self.policies = Policies(list(parts.policy_kinds))
        self.policy_store = PolicyStore(self.engine, self.policies)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._periodic: list[tuple[float, Callable[[], Awaitable[None]]]] = []
        if parts.policy_kinds:
            self.every(settings.policy_refresh_s, self._refresh_policies)

    def every(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` every `seconds` while the service runs (a gauge from a count);
        a failing run is logged and tried again next time."""
        self._periodic.append((seconds, job))

    async def migrate(self) -> None:
        """Runtime tables, the service's revisions, then its policy files."""
        await migrations.upgrade(self.engine, self.migrations_path, self.settings.db_schema)
        await self.load_policies()

    async def load_policies(self) -> None:
        if self.parts.policies_path is not None:
            added = await self.policy_store.load_files(self.parts.policies_path)
            if added:
                log.info("stored %d policy versions from files", added)
        await self.policy_store.refresh()

    async def start(self) -> None:
        """Connect to Kafka (waiting for it if need be) and start the workers."""
        s = self.settings
        self._stop = asyncio.Event()
        await self._until_database_answers()
        await self._restore_clock()
        await self.load_policies()
        await self._policies_changed()
        self._producer = idempotent_producer(
            s.kafka_bootstrap, f"{s.service_name}-producer", self.kafka_security
        )
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
        self._spawn(relay.run(self._stop), "outbox-relay")
        for seconds, job in self._periodic:
            self._spawn(self._repeat(seconds, job), f"every-{seconds}s")
        if self.parts.handlers or self.parts.raw_handlers:
            await self._start_consumer()
        if self.parts.timer_handlers:
            self._spawn(self._timer_worker().run(self._stop), "timers")
        if self.parts.senders:
            self._spawn(self._delivery_worker().run(self._stop), "deliveries")
        settle_garbage_collector(s.gc_young_threshold)

    async def _start_consumer(self) -> None:
        s = self.settings
        self._consumer = manual_commit_consumer(
            s.kafka_bootstrap, s.service_name, f"{s.service_name}-consumer", self.kafka_security
        )
        consumer = EventConsumer(
            service=s.service_name,
            consumer=self._consumer,
            handlers=self.parts.handlers,
            raw_handlers=self.parts.raw_handlers,
            unit_of_work=self.unit_of_work,
            engine=self.engine,
            batch_size=s.consumer_batch_size,
            fetch_timeout_ms=s.consumer_fetch_timeout_ms,
            max_attempts=s.handler_max_attempts,
            retry_backoff_s=s.handler_retry_backoff_s,
            one_transaction_per_fetch=s.consumer_transaction == "fetch",
        )
        consumer.subscribe()
        await _start_when_reachable(self._consumer, "consumer")
        assert self._producer is not None
        await consumer.check_partitions(self._producer)
        self._spawn(consumer.run(self._stop), "consumer")

    def _timer_worker(self) -> TimerWorker[U]:
        return TimerWorker(
            service=self.settings.service_name,
            engine=self.engine,
            unit_of_work=self.unit_of_work,
            handlers=self.parts.timer_handlers,
            clock=self.clock,
            poll_interval_s=self.settings.timer_poll_interval_s,
        )

    def _delivery_worker(self) -> DeliveryWorker:
        s = self.settings
        return DeliveryWorker(
            service=s.service_name,
            engine=self.engine,
            senders=self.parts.senders,
            clock=self.clock,
            backoff=Backoff(first_s=s.delivery_first_backoff_s, max_s=s.delivery_max_backoff_s),
            lease_s=s.delivery_lease_s,
            call_timeout_s=s.delivery_call_timeout_s,
            poll_interval_s=s.delivery_poll_interval_s,
        )

    def _spawn(self, work: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))

    async def _refresh_policies(self) -> None:
        if await self.policy_store.refresh():
            await self._policies_changed()

    async def _policies_changed(self) -> None:
        if self.parts.policies_changed is not None:
            await self.parts.policies_changed()

    async def _repeat(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        while not self._stop.is_set():
            await pause(self._stop, seconds)
            try:
                await job()
            except Exception as error:
                log.warning("periodic job %s failed: %r", getattr(job, "__name__", job), error)

    async def _remember_clock(self, clock: ControllableClock) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_REMEMBER_CLOCK, {"offset": clock.offset.total_seconds()})

    async def _restore_clock(self) -> None:
        """A clock moved before a restart is moved again (tests restart services)."""
        if not isinstance(self.clock, ControllableClock):
            return
        async with self.engine.connect() as conn:
            offset = (await conn.execute(_CLOCK_OFFSET)).scalar_one_or_none()
        if offset is not None:
            self.clock.advance(timedelta(seconds=offset) - self.clock.offset)

    async def _until_database_answers(self) -> None:
        delay = 0.5
        while True:
            try:
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
                return
            except Exception as error:
                log.warning("database not reachable yet (%r); retrying", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

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
        """The service's FastAPI app: its routes, administration, `/healthz`, `/readyz`,
        `/metrics`; bearer tokens checked by `access.requires` on every route that declares
        it; bodies bounded and JSON; every rejection a problem-details body (`web`)."""
        s = self.settings

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            yield
            await self.stop()

        if s.http_docs:
            # /docs and /redoc with Swagger UI and ReDoc served by the service itself (the
            # fastapi-offline package's assets), so they work where no CDN can be reached.
            app = FastAPIOffline(title=title, lifespan=lifespan, static_url="/docs-assets")
        else:
            app = FastAPI(
                title=title, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
            )
        app.state.token_verifier = self.token_verifier
        install_problem_handlers(app)
        app.add_middleware(MediaTypeCheck, accepted=s.http_media_types)
        # Added last, so it runs first: an oversized body is refused before anything reads it.
        app.add_middleware(BodyLimit, max_bytes=s.http_max_body_bytes)
        app.include_router(self._operational_routes())
        if self.parts.policy_kinds:
            app.include_router(
                policy_routes(self.policy_store, self.clock, changed=self._policies_changed)
            )
        if isinstance(self.clock, ControllableClock):
            app.include_router(clock_routes(self.clock, self._remember_clock))
        for router in routers:
            app.include_router(router)
        document_problems(app)
        instrument_app(app)
        return app

    def _operational_routes(self) -> APIRouter:
        router = APIRouter(tags=["operations"])

        @router.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.settings.service_name}

        @router.get("/readyz")
        async def readyz(response: Response) -> dict[str, Any]:
            """200 when every check passes, else 503; names the service and the instance
            (`CLEARANCE_INSTANCE_ID`) so whoever started it knows the answer is its own."""
            checks = await self.ready()
            ready = all(checks.values())
            response.status_code = 200 if ready else 503
            return {
                "service": self.settings.service_name,
                "instance_id": self.settings.instance_id,
                "ready": ready,
                "checks": checks,
            }

        if self.settings.http_metrics:

            @router.get("/metrics")
            async def prometheus() -> Response:
                return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        return router


def settle_garbage_collector(young_threshold: int) -> None:
    """What start-up made (modules, compiled schemas, policies, clients) lives as long as
    the process: move it out of the collector's sight (`gc.freeze`), so a full collection
    no longer walks it, and collect the young generation every `young_threshold`
    allocations. The profile of issue 18 put 15-25 % of a batch's time in the collector."""
    gc.collect()
    gc.freeze()
    if young_threshold > 0:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(young_threshold, older, oldest)


def token_verifier(settings: ServiceSettings) -> TokenVerifier | None:
    """The checker of bearer tokens the settings describe; None without an issuer (then
    every protected route answers 401)."""
    if not settings.auth_issuer:
        log.warning(
            "no token issuer configured (CLEARANCE_AUTH_ISSUER): protected routes answer 401"
        )
        return None
    return TokenVerifier(
        AuthConfig(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            jwks_url=settings.auth_jwks_url,
            algorithms=tuple(settings.auth_algorithms),
            leeway_s=settings.auth_leeway_s,
            roles_claim=settings.auth_roles_claim,
            subject_claim=settings.auth_subject_claim,
        )
    )


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


def run_cli(
    build: Callable[[], tuple[ServiceRuntime[Any], FastAPI]], settings: ServiceSettings
) -> None:
    """`python -m <service> [serve [--migrate]|migrate]`: the entry point of every service.
    `serve --migrate` applies the migrations first, in the same process (one start-up of
    the interpreter instead of two: what the local stack does)."""
    parser = argparse.ArgumentParser(prog=settings.service_name)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    parser.add_argument("--migrate", action="store_true", help="migrate, then serve")
    args = parser.parse_args()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)
    runtime, app = build()
    if args.command == "migrate" or args.migrate:
        asyncio.run(_migrate(runtime))
    if args.command == "migrate":
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


async def _migrate(runtime: ServiceRuntime[Any]) -> None:
    await runtime.migrate()
    await runtime.engine.dispose()
