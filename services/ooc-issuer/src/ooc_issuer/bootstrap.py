"""The one place ooc-issuer is wired together."""

from __future__ import annotations

from pathlib import Path

import httpx
from clearance_runtime.clock import Clock
from clearance_runtime.deliveries import Sender
from clearance_runtime.service import ServiceParts, ServiceRuntime, run_cli
from fastapi import FastAPI

from ooc_issuer.adapters.custodians import custodian_sender
from ooc_issuer.adapters.signing import DocumentSigner
from ooc_issuer.adapters.unit_of_work import SqlOocUnitOfWork
from ooc_issuer.config import Settings
from ooc_issuer.entrypoints.http import routes
from ooc_issuer.service_layer.handlers import GATEPASS_DELIVERY, handlers, render_events

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def build(
    settings: Settings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime[SqlOocUnitOfWork], FastAPI]:
    settings = settings or Settings()
    signer = DocumentSigner.from_json(settings.signing_keys_json())
    senders: dict[str, Sender] = {}  # filled once the runtime has its engine and clock
    parts = ServiceParts(
        handlers=handlers(signer),
        unit_of_work=SqlOocUnitOfWork,
        render_events=render_events,
        senders=senders,
    )
    runtime = ServiceRuntime(settings, parts, migrations_path=MIGRATIONS, clock=clock)
    # Below the worker's own limit, so a timed-out call is counted against the callback.
    client = httpx.AsyncClient(timeout=settings.delivery_call_timeout_s * 0.8)
    senders[GATEPASS_DELIVERY] = custodian_sender(
        runtime.engine, client, runtime.clock, settings.custodian_block_after_failures
    )
    routers = routes(
        engine=runtime.engine,
        unit_of_work=runtime.unit_of_work,
        signer=signer,
        client=client,
        clock=runtime.clock,
        challenge_timeout_s=settings.custodian_challenge_timeout_s,
    )
    app = runtime.app(title="ooc-issuer: Out of Charge, e-OOC and e-Gatepass", routers=routers)
    return runtime, app


def main() -> None:
    run_cli(build, Settings())
