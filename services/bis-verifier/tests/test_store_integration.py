"""bis-verifier's SQL on real PostgreSQL: versions waiting for the registry (park, supersede,
leased claims shared by replicas, a lost lease), verdicts with their items, samples."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime, timedelta

import pytest
from bis_verifier.adapters.pending_queue import SqlPendingQueue
from bis_verifier.adapters.unit_of_work import SqlBisUnitOfWork
from bis_verifier.bootstrap import MIGRATIONS
from bis_verifier.config import Settings
from bis_verifier.domain.registry import Lookup, LookupKind
from bis_verifier.domain.sampling import Origin, SampleCase
from bis_verifier.domain.verification import ItemOutcome, ItemResult, Verdict
from clearance_domain import BillOfEntryRef, PolicyRef
from clearance_runtime.clock import ControllableClock
from clearance_runtime.database import create_engine, session_factory
from clearance_runtime.migrations import upgrade
from clearance_runtime.unit_of_work import unit_of_work_factory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.integration

# Far from any service clock, so the session's running bis-verifier never claims these.
FAR = datetime(2099, 1, 1, tzinfo=UTC)
LOOKUP = Lookup(LookupKind.REGISTRATION, "R-41087785")


@pytest.fixture(scope="module")
async def engine(service_dsns: dict[str, str]) -> AsyncIterator[AsyncEngine]:
    settings = Settings(database_url=service_dsns["bis_verifier"])
    engine = create_engine(settings)
    await upgrade(engine, MIGRATIONS, "bis_verifier")
    yield engine
    await engine.dispose()


def _ref(version: int = 1) -> BillOfEntryRef:
    return BillOfEntryRef("INNSA1", f"{secrets.randbelow(10**7):07d}", date(2025, 3, 20), version)


async def test_parked_versions_are_claimed_once_and_a_lost_lease_is_taken_over(
    engine: AsyncEngine, service_dsns: dict[str, str]
) -> None:
    uow_factory = _units_of_work(engine)
    refs = [_ref() for _ in range(4)]
    async with uow_factory() as uow:
        for ref in refs:
            carrier = {"traceparent": f"00-{'a' * 32}-{'b' * 16}-01"}
            uow.waiting.park(ref, {"be_no": ref.be_no}, [LOOKUP], FAR, carrier)
    mine = {ref.be_no for ref in refs}
    dsn = Settings(database_url=service_dsns["bis_verifier"]).asyncpg_dsn
    queue, other = SqlPendingQueue(engine, dsn, "test"), SqlPendingQueue(engine, dsn, "test")

    first, second = await asyncio.gather(
        queue.claim(FAR, 2, timedelta(seconds=60)), other.claim(FAR, 10, timedelta(seconds=60))
    )
    ours = [c for c in first + second if c.ref.be_no in mine]
    assert sorted(c.ref.be_no for c in ours) == sorted(mine)  # each claimed once, by one
    assert {c.attempt for c in ours} == {1}
    assert ours[0].lookups == (LOOKUP,)
    assert ours[0].carrier["traceparent"].startswith("00-aaaa")

    # A lease that ran out: the version is claimed again, and the first claim is no longer ours.
    later = FAR + timedelta(seconds=61)
    again = [c for c in await queue.claim(later, 100, timedelta(seconds=60)) if c.ref.be_no in mine]
    assert {c.attempt for c in again} == {2}
    async with uow_factory() as uow:
        assert await uow.waiting.still_ours(ours) == set()
        assert await uow.waiting.still_ours(again) == {c.id for c in again}
        for claim in again:
            uow.waiting.finish(claim, later)
    later = later + timedelta(minutes=5)
    assert not [
        c for c in await queue.claim(later, 100, timedelta(seconds=60)) if c.ref.be_no in mine
    ]


async def test_a_newer_version_supersedes_an_older_one_waiting(engine: AsyncEngine) -> None:
    uow_factory = _units_of_work(engine)
    v1 = _ref()
    v2 = v1.next_version()
    async with uow_factory() as uow:
        uow.waiting.park(v1, {}, [LOOKUP], FAR, {})
    async with uow_factory() as uow:
        uow.waiting.supersede(v2)
        uow.waiting.park(v2, {}, [LOOKUP], FAR, {})
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT version, state FROM bis_pending WHERE be_no = :be_no ORDER BY version"
                ),
                {"be_no": v1.be_no},
            )
        ).all()
    assert [(r.version, r.state) for r in rows] == [(1, "superseded"), (2, "pending")]


async def test_verdicts_and_samples_are_stored_and_read_back(engine: AsyncEngine) -> None:
    uow_factory = _units_of_work(engine)
    ref = _ref(2)
    verdict = Verdict(
        "conditional",
        items=(
            ItemResult(
                1, 1, "95030020", None, ItemOutcome.CONDITIONAL, licence_no="CM/L-0004100062"
            ),
        ),
        catalogue=PolicyRef("bis-coverage-catalogue", 1),
        registry_snapshot_at=FAR,
    )
    async with uow_factory() as uow:
        uow.verifications.add(ref, verdict)
        case = SampleCase(ref)
        case.draw(ref, [1, 2], Origin.QCO)
        uow.samples.save(case)
        assert await uow.samples.get(ref.identity) is case  # read back within the batch
    async with uow_factory() as uow:
        assert await uow.verifications.latest_versions([ref.identity]) == {ref.identity: 2}
        stored = await uow.samples.get(ref.identity)
    assert stored is not None
    assert stored.awaiting == [1, 2]
    assert stored.drawn == {1: Origin.QCO, 2: Origin.QCO}
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT items, catalogue_version FROM bis_verification WHERE be_no = :n"),
                {"n": ref.be_no},
            )
        ).one()
    assert row.catalogue_version == 1
    assert row.items[0]["licence_no"] == "CM/L-0004100062"


def _units_of_work(
    engine: AsyncEngine,
) -> Callable[[], AbstractAsyncContextManager[SqlBisUnitOfWork]]:
    return unit_of_work_factory(
        session_factory(engine),
        "/test",
        "bis_verifier",
        clock=ControllableClock(FAR),
        kind=SqlBisUnitOfWork,
    )
