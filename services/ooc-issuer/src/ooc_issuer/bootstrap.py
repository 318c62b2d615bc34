"""The one place ooc-issuer is wired together."""

from __future__ import annotations

from pathlib import Path

from clearance_runtime.clock import Clock
from clearance_runtime.service import ServiceParts, ServiceRuntime, run_cli
from fastapi import FastAPI

from ooc_issuer.adapters.unit_of_work import SqlOocUnitOfWork
from ooc_issuer.config import Settings
from ooc_issuer.service_layer.handlers import HANDLERS, render_events

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def build(
    settings: Settings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime[SqlOocUnitOfWork], FastAPI]:
    parts = ServiceParts(
        handlers=HANDLERS, unit_of_work=SqlOocUnitOfWork, render_events=render_events
    )
    runtime = ServiceRuntime(settings or Settings(), parts, migrations_path=MIGRATIONS, clock=clock)
    return runtime, runtime.app(title="ooc-issuer: Out of Charge and e-Gatepass")


def main() -> None:
    run_cli(build, Settings())
