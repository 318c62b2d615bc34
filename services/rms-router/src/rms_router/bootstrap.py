"""The one place rms-router is wired together."""

from __future__ import annotations

from pathlib import Path

from clearance_runtime.service import ServiceRuntime, run_cli
from fastapi import FastAPI

from rms_router.config import Settings
from rms_router.entrypoints import http
from rms_router.service_layer.handlers import HANDLERS

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    runtime = ServiceRuntime(settings or Settings(), handlers=HANDLERS, migrations_path=MIGRATIONS)
    app = runtime.app(title="rms-router: risk routing", routers=[http.router(runtime.sessions)])
    return runtime, app


def main() -> None:
    run_cli(build, Settings())
