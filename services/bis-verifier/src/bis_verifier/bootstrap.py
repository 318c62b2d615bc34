"""The one place bis-verifier is wired together."""

from __future__ import annotations

from pathlib import Path

from clearance_runtime.service import ServiceRuntime, run_cli
from fastapi import FastAPI

from bis_verifier.adapters.register_csv import CsvRegister
from bis_verifier.config import Settings
from bis_verifier.service_layer.handlers import handlers

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings()
    register = CsvRegister(settings.bis_register_csv)
    runtime = ServiceRuntime(
        settings, handlers=handlers(register.lookup), migrations_path=MIGRATIONS
    )
    return runtime, runtime.app(title="bis-verifier: BIS registrations and licences")


def main() -> None:
    run_cli(build, Settings())
