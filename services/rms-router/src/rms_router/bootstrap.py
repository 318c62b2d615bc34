"""The one place rms-router is wired together."""

from __future__ import annotations

from pathlib import Path

from clearance_runtime.clock import Clock
from clearance_runtime.service import ServiceParts, ServiceRuntime, run_cli
from fastapi import FastAPI

from rms_router.adapters.unit_of_work import SqlRmsUnitOfWork
from rms_router.config import Settings
from rms_router.entrypoints import http
from rms_router.service_layer.handlers import HANDLERS

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def build(
    settings: Settings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime[SqlRmsUnitOfWork], FastAPI]:
    parts = ServiceParts(handlers=HANDLERS, unit_of_work=SqlRmsUnitOfWork)
    runtime = ServiceRuntime(settings or Settings(), parts, migrations_path=MIGRATIONS, clock=clock)
    app = runtime.app(title="rms-router: risk routing", routers=[http.router(runtime.sessions)])
    return runtime, app


def main() -> None:
    run_cli(build, Settings())
