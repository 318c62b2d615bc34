"""The one place be-intake is wired together."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from clearance_runtime.clock import Clock
from clearance_runtime.metrics import NOT_TERMINAL, OLDEST_NOT_TERMINAL, STUCK
from clearance_runtime.service import ServiceParts, ServiceRuntime, run_cli
from fastapi import FastAPI

from be_intake.adapters import operations, views
from be_intake.adapters.unit_of_work import SqlIntakeUnitOfWork
from be_intake.config import Settings
from be_intake.domain.calendar import HOLIDAY_CALENDAR
from be_intake.domain.deadlines import FILING_DEADLINE
from be_intake.entrypoints import http, ices
from be_intake.entrypoints import operations as operations_http
from be_intake.service_layer.handlers import (
    RAW_HANDLERS,
    SERVICE,
    handlers,
    render_events,
    timer_handlers,
)

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"
POLICIES = Path(__file__).parent / "policies"
POLICY_KINDS = (HOLIDAY_CALENDAR, FILING_DEADLINE)


def build(
    settings: Settings | None = None, clock: Clock | None = None
) -> tuple[ServiceRuntime[SqlIntakeUnitOfWork], FastAPI]:
    parts: ServiceParts[SqlIntakeUnitOfWork] = ServiceParts(
        raw_handlers=RAW_HANDLERS,
        unit_of_work=SqlIntakeUnitOfWork,
        render_events=render_events,
        policy_kinds=POLICY_KINDS,
        policies_path=POLICIES,
    )
    settings = settings or Settings()
    runtime = ServiceRuntime(settings, parts, migrations_path=MIGRATIONS, clock=clock)
    # The handlers read the runtime's policy book (administrators add versions over HTTP).
    inbox = Path(settings.ices_inbox_dir) if settings.ices_inbox_dir else None
    writer = ices.inbox_writer(inbox) if inbox is not None else None
    parts.handlers = handlers(runtime.policies, writer)
    parts.timer_handlers = timer_handlers(runtime.policies)

    async def count_stuck() -> None:
        async with runtime.sessions() as session:
            STUCK.labels(SERVICE).set(await views.stuck_count(session))

    async def count_not_terminal() -> None:
        now = runtime.clock.now()
        cutoff = now - timedelta(seconds=settings.not_terminal_after_s)
        async with runtime.sessions() as session:
            overdue, oldest = await operations.not_terminal(session, cutoff)
        NOT_TERMINAL.labels(SERVICE).set(overdue)
        OLDEST_NOT_TERMINAL.labels(SERVICE).set((now - oldest).total_seconds() if oldest else 0)

    runtime.every(5.0, count_stuck)
    runtime.every(15.0, count_not_terminal)
    if inbox is not None:
        inbox.mkdir(parents=True, exist_ok=True)
        scan = ices.watch_inbox(inbox, runtime.unit_of_work, runtime.policies)
        runtime.every(settings.ices_inbox_every_s, scan)
    app = runtime.app(
        title="be-intake: Bills of Entry",
        routers=[
            http.router(runtime.unit_of_work, runtime.sessions, runtime.policies),
            operations_http.router(runtime.sessions),
            ices.router(runtime.unit_of_work, runtime.policies, runtime.sessions),
        ],
    )
    return runtime, app


def main() -> None:
    run_cli(build, Settings())
