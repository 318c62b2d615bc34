"""The one place ooc-issuer is wired together."""

from __future__ import annotations

from pathlib import Path

from clearance_runtime.service import ServiceRuntime, run_cli
from fastapi import FastAPI

from ooc_issuer.config import Settings
from ooc_issuer.service_layer.handlers import HANDLERS

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    runtime = ServiceRuntime(settings or Settings(), handlers=HANDLERS, migrations_path=MIGRATIONS)
    return runtime, runtime.app(title="ooc-issuer: Out of Charge and e-Gatepass")


def main() -> None:
    run_cli(build, Settings())
