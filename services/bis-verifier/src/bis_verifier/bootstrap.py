"""The one place bis-verifier is wired together."""

from __future__ import annotations

from pathlib import Path

from clearance_runtime.clock import Clock
from clearance_runtime.service import ServiceParts, ServiceRuntime, run_cli
from fastapi import FastAPI

from bis_verifier.adapters.register_csv import CsvRegister
from bis_verifier.adapters.unit_of_work import SqlBisUnitOfWork
from bis_verifier.config import Settings
from bis_verifier.service_layer.handlers import handlers

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def build(
    settings: Settings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime[SqlBisUnitOfWork], FastAPI]:
    settings = settings or Settings()
    register = CsvRegister(settings.bis_register_csv)
    parts = ServiceParts(handlers=handlers(register.lookup), unit_of_work=SqlBisUnitOfWork)
    runtime = ServiceRuntime(settings, parts, migrations_path=MIGRATIONS, clock=clock)
    return runtime, runtime.app(title="bis-verifier: BIS registrations and licences")


def main() -> None:
    run_cli(build, Settings())
