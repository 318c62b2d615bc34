"""The one place warehouse-seal is wired together."""

from __future__ import annotations

from pathlib import Path

from clearance_runtime.clock import Clock
from clearance_runtime.service import ServiceParts, ServiceRuntime, run_cli
from fastapi import FastAPI

from warehouse_seal.adapters.unit_of_work import SqlSealUnitOfWork
from warehouse_seal.config import Settings
from warehouse_seal.service_layer.handlers import HANDLERS

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def build(
    settings: Settings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime[SqlSealUnitOfWork], FastAPI]:
    parts = ServiceParts(handlers=HANDLERS, unit_of_work=SqlSealUnitOfWork)
    runtime = ServiceRuntime(settings or Settings(), parts, migrations_path=MIGRATIONS, clock=clock)
    return runtime, runtime.app(title="warehouse-seal: RFID seal reconciliation")


def main() -> None:
    run_cli(build, Settings())
