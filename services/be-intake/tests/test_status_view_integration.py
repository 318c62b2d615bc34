"""The status view in PostgreSQL folds events exactly as the domain's `next_stage` says."""

from __future__ import annotations

import random
import secrets
from collections.abc import AsyncIterator

import pytest
from be_intake.adapters import repository
from be_intake.bootstrap import MIGRATIONS
from be_intake.config import Settings
from be_intake.domain.status import STAGE_OF_EVENT, StatusChange, next_stage
from clearance_runtime.database import create_engine, session_factory
from clearance_runtime.migrations import upgrade
from clearance_runtime.unit_of_work import UnitOfWork
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
        identity = ("INNSA1", f"{secrets.randbelow(10**7):07d}", "2026-11-20")  # fresh BE
        arrivals = [rng.choice(event_types) for _ in range(rng.randint(1, 8))]
        expected: str | None = None
        async with sessions() as session, session.begin():
            uow = UnitOfWork(session, "/test")
            for n, event_type in enumerate(arrivals):
                stage = STAGE_OF_EVENT[event_type]
                reasons = [{"rule_id": "TEST-1", "message": f"{case}/{n}"}] if n % 2 else []
                change = StatusChange(stage, reasons)
                repository.record_status(uow, identity, event_type, change)
                expected = next_stage(expected, stage)
            await uow.flush()
        async with sessions() as session:
            view = await repository.status_of(session, identity)
        assert view is not None
        assert view["stage"] == expected, arrivals
        assert [h["event_type"] for h in view["history"]] == arrivals


async def test_a_late_event_without_reasons_keeps_the_reasons_shown(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    identity = ("INNSA1", f"{secrets.randbelow(10**7):07d}", "2026-11-21")
    held = [{"rule_id": "OOC-AUTO-1", "message": "AEO tier none"}]
    async with sessions() as session, session.begin():
        uow = UnitOfWork(session, "/test")
        repository.record_status(
            uow, identity, "clearance.out-of-charge.held.v1", StatusChange("held", held)
        )
        repository.record_status(
            uow, identity, "clearance.rms-decision.made.v1", StatusChange("rms_decided", [])
        )
        await uow.flush()
    async with sessions() as session:
        view = await repository.status_of(session, identity)
    assert view is not None
    assert view["stage"] == "held"
    assert view["reasons"] == held
