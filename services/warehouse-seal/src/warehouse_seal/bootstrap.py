"""The one place warehouse-seal is wired together."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from clearance_runtime.clock import Clock
from clearance_runtime.service import ServiceParts, ServiceRuntime, run_cli
from fastapi import FastAPI

from warehouse_seal.adapters.unit_of_work import SqlSealUnitOfWork
from warehouse_seal.config import Settings
from warehouse_seal.entrypoints import http
from warehouse_seal.service_layer.handlers import handlers, submit, timer_handlers
from warehouse_seal.service_layer.policies import POLICY_KINDS
from warehouse_seal.service_layer.settlement import Fact

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
POLICIES = Path(__file__).parent / "policies"


def build(
    settings: Settings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime[SqlSealUnitOfWork], FastAPI]:
    parts: ServiceParts[SqlSealUnitOfWork] = ServiceParts(
        unit_of_work=SqlSealUnitOfWork, policy_kinds=POLICY_KINDS, policies_path=POLICIES
    )
    runtime = ServiceRuntime(settings or Settings(), parts, migrations_path=MIGRATIONS, clock=clock)
    # The handlers read the runtime's book of policies (SEAL-POLICY-1), made with it.
    parts.handlers = handlers(runtime.policies)
    parts.timer_handlers = timer_handlers(runtime.policies)
    router = http.router(runtime.unit_of_work, runtime.sessions, runtime.policies)
    return runtime, runtime.app(title="warehouse-seal: RFID seal trips", routers=[router])


async def import_sales(path: Path) -> dict[str, Any]:
    """A vendor's bulk file of sales (CSV) straight into the registry, as the HTTP upload."""
    runtime, _ = build(Settings())
    try:
        await runtime.load_policies()
        content = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
        lines = http.sales_from_csv(content)
        facts = []
        async with runtime.unit_of_work() as uow:
            facts = [
                submit(uow, runtime.policies, Fact("sold", line))
                for line in lines
                if isinstance(line, dict)
            ]
        outcomes = [fact.outcome.outcome for fact in facts]
        return {
            "recorded": outcomes.count("recorded"),
            "duplicates": outcomes.count("duplicate"),
            "refused": outcomes.count("refused") + sum(isinstance(line, str) for line in lines),
        }
    finally:
        await runtime.engine.dispose()


def main() -> None:
    """`python -m warehouse_seal [serve|migrate]`, or `import-sales FILE.csv`."""
    if sys.argv[1:2] == ["import-sales"] and len(sys.argv) == 3:
        print(json.dumps(asyncio.run(import_sales(Path(sys.argv[2])))))
        return
    run_cli(build, Settings())
