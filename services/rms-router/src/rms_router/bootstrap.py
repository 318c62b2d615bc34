"""The one place rms-router is wired together."""

from __future__ import annotations

from pathlib import Path

from clearance_runtime.clock import Clock
from clearance_runtime.service import ServiceParts, ServiceRuntime, run_cli
from fastapi import FastAPI

from rms_router.adapters.unit_of_work import SqlRmsUnitOfWork
from rms_router.config import Settings
from rms_router.domain.rule_set import RULE_SET
from rms_router.entrypoints import http
from rms_router.service_layer.handlers import handlers, timer_handlers
from rms_router.service_layer.routing import routing_publisher

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
POLICIES = Path(__file__).parent / "policies"


def build(
    settings: Settings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime[SqlRmsUnitOfWork], FastAPI]:
    settings = settings or Settings()
    parts: ServiceParts[SqlRmsUnitOfWork] = ServiceParts(
        unit_of_work=SqlRmsUnitOfWork,
        timer_handlers=timer_handlers(),
        policy_kinds=[RULE_SET],
        policies_path=POLICIES,
    )
    runtime = ServiceRuntime(settings, parts, migrations_path=MIGRATIONS, clock=clock)
    parts.handlers = handlers(runtime.policies)
    parts.policies_changed = routing_publisher(runtime.unit_of_work, runtime.policies)
    api = http.router(
        runtime.unit_of_work,
        runtime.sessions,
        runtime.policies,
        settings.claim_ttl_s,
    )
    app = runtime.app(title="rms-router: risk rules, officers' queues", routers=[api])
    return runtime, app


def main() -> None:
    run_cli(build, Settings())
