"""The status view in PostgreSQL folds events exactly as the domain's `next_status` says."""

from __future__ import annotations

import random
import secrets
from collections.abc import AsyncIterator
from datetime import date

import pytest
from be_intake.adapters import views
from be_intake.adapters.unit_of_work import SqlIntakeUnitOfWork
from be_intake.bootstrap import MIGRATIONS
from be_intake.config import Settings
from be_intake.domain.status import STAGE_OF_EVENT, Status, StatusChange, next_status
from clearance_runtime.database import create_engine, session_factory
from clearance_runtime.migrations import upgrade
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def sessions(service_dsns: dict[str, str]) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(Settings(database_url=service_dsns["be_intake"]))
    await upgrade(engine, MIGRATIONS, "be_intake")
    yield session_factory(engine)
    await engine.dispose()


async def test_any_arrival_order_folds_like_the_domain_rule(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rng = random.Random(20261122)
    event_types = sorted(STAGE_OF_EVENT)
    for case in range(40):
        identity = ("INNSA1", f"{secrets.randbelow(10**7):07d}", date(2026, 11, 20))  # fresh BE
        arrivals = [(rng.choice(event_types), rng.randint(1, 3)) for _ in range(rng.randint(1, 8))]
        expected: Status | None = None
        async with sessions() as session, session.begin():
            uow = SqlIntakeUnitOfWork(session, "/test")
            for n, (event_type, version) in enumerate(arrivals):
                stage = STAGE_OF_EVENT[event_type]
                ooc_no = "INNSA1-OOC-1" if stage == "out_of_charge" else None
                reasons = [{"rule_id": "OOC-AUTO-1", "message": f"{case}/{n}"}] if n % 2 else []
                change = StatusChange(stage, version, reasons, out_of_charge_no=ooc_no)
                uow.intake.record_status(identity, event_type, "test", change)
                expected = next_status(expected, Status(stage, version, ooc_no is not None))
            await uow.flush()
        async with sessions() as session:
            view = await views.status_of(session, identity)
        assert view is not None
        assert expected is not None
        assert (view["stage"], view["version"]) == (expected.stage, expected.version), arrivals
        assert [(h["event_type"], h["version"]) for h in view["history"]] == arrivals


async def test_a_late_event_without_reasons_keeps_the_reasons_shown(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    identity = ("INNSA1", f"{secrets.randbelow(10**7):07d}", date(2026, 11, 21))
    held = [{"rule_id": "OOC-AUTO-1", "message": "AEO tier none"}]
    async with sessions() as session, session.begin():
        uow = SqlIntakeUnitOfWork(session, "/test")
        uow.intake.record_status(
            identity, "clearance.out-of-charge.held.v1", "ooc-issuer", StatusChange("held", 1, held)
        )
        uow.intake.record_status(
            identity, "clearance.rms-decision.made.v1", "rms-router", StatusChange("rms_decided", 1)
        )
        await uow.flush()
    async with sessions() as session:
        view = await views.status_of(session, identity)
    assert view is not None
    assert view["stage"] == "held"
    assert view["reasons"] == held
