"""The one place be-intake is wired together."""

from __future__ import annotations

from pathlib import Path

from clearance_runtime.service import ServiceRuntime, run_cli
from fastapi import FastAPI

from be_intake.config import Settings
from be_intake.entrypoints import http
from be_intake.service_layer.handlers import HANDLERS

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    runtime = ServiceRuntime(settings or Settings(), handlers=HANDLERS, migrations_path=MIGRATIONS)
    app = runtime.app(
        title="be-intake: Bills of Entry",
        routers=[http.router(runtime.unit_of_work, runtime.sessions)],
    )
    return runtime, app


def main() -> None:
    run_cli(build, Settings())
