"""The one place bis-verifier is wired together."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from clearance_runtime.clock import Clock
from clearance_runtime.deliveries import Backoff
from clearance_runtime.service import ServiceParts, ServiceRuntime, clock_from, run_cli
from fastapi import FastAPI

from bis_verifier.adapters.pending_queue import SqlPendingQueue
from bis_verifier.adapters.registry_http import CircuitBreaker, HttpBisRegistry
from bis_verifier.adapters.unit_of_work import SqlBisUnitOfWork
from bis_verifier.config import Settings
from bis_verifier.entrypoints.http import routes
from bis_verifier.service_layer.handlers import COVERAGE, Verifier, handlers
from bis_verifier.service_layer.registry import CachedRegistry
from bis_verifier.service_layer.worker import VerificationWorker

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
POLICIES = Path(__file__).parent / "policies"


def build(
    settings: Settings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime[SqlBisUnitOfWork], FastAPI]:
    settings = settings or Settings()
    clock = clock or clock_from(settings)
    breaker = CircuitBreaker(
        settings.bis_registry_breaker_failures,
        settings.bis_registry_breaker_reset_s,
        service=settings.service_name,
    )
    client = httpx.AsyncClient(
        base_url=settings.bis_registry_url,
        timeout=settings.bis_registry_timeout_s,
        limits=httpx.Limits(max_connections=settings.bis_registry_concurrency),
    )
    source = HttpBisRegistry(
        client,
        clock,
        retries=settings.bis_registry_retries,
        backoff_first_s=settings.bis_registry_retry_backoff_s,
        breaker=breaker,
        service=settings.service_name,
    )
    registry = CachedRegistry(
        source,
        clock,
        timedelta(seconds=settings.bis_registry_max_status_age_s),
        concurrency=settings.bis_registry_concurrency,
        service=settings.service_name,
    )
    parts = ServiceParts(unit_of_work=SqlBisUnitOfWork, policy_kinds=[COVERAGE])
    parts.policies_path = POLICIES
    runtime = ServiceRuntime(settings, parts, migrations_path=MIGRATIONS, clock=clock)
    verifier = Verifier(runtime.policies)
    parts.handlers = handlers(verifier, registry)
    queue = SqlPendingQueue(runtime.engine, settings.asyncpg_dsn, settings.service_name)
    worker = VerificationWorker(
        queue=queue,
        unit_of_work=runtime.unit_of_work,
        registry=registry,
        verifier=verifier,
        clock=clock,
        backoff=Backoff(
            first_s=settings.bis_pending_first_backoff_s, max_s=settings.bis_pending_max_backoff_s
        ),
        batch_size=settings.bis_pending_batch_size,
        lease=timedelta(seconds=settings.bis_pending_lease_s),
        poll_interval_s=settings.bis_pending_poll_interval_s,
    )
    runtime.every(0.0, worker.step)

    async def report_pending() -> None:
        await queue.report(clock.now())

    runtime.every(2.0, report_pending)
    api = routes(runtime.engine, registry, breaker, settings.bis_registry_url)
    return runtime, runtime.app(title="bis-verifier: BIS registrations and licences", routers=[api])


def main() -> None:
    run_cli(build, Settings())
