"""be-intake's staff search on real PostgreSQL: each BE's milestones from its timeline."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from be_intake.adapters import operations
from clearance_contracts import (
    BILL_OF_ENTRY_REGISTERED,
    DUTY_PAYMENT_RECEIVED,
    OUT_OF_CHARGE_ISSUED,
    RMS_DECISION_MADE,
)
from clearance_runtime.database import session_factory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.integration

_CASE = text(
    "INSERT INTO intake_case (port_code, be_no, be_date, version, registered, status, iec,"
    " state, updated_at) VALUES (:port_code, :be_no, :be_date, 1, true, 'released',"
    " 'AAGCS4417M', '{}', :at)"
)
_ENTRY = text(
    "INSERT INTO timeline (port_code, be_no, be_date, version, event_type, producer, summary,"
    " status, notice_code, reasons, at) VALUES ('INNSA1', :be_no, :be_date, 1, :event_type,"
    " :producer, 'test', :status, NULL, CAST(:reasons AS jsonb), :at)"
)


async def test_a_registration_folded_with_its_payment_is_still_the_registration_milestone(
    engine: AsyncEngine,
) -> None:
    """Filing and payment in one batch: both entries carry the batch's final status (`paid`),
    none says `accepted`; registration is found by its fact (INTAKE-BE-2), not that status."""
    be_no, be_date = f"{secrets.randbelow(10**7):07d}", date(2099, 1, 2)
    filed = datetime(2099, 1, 2, 10, tzinfo=UTC)
    entries = [
        (BILL_OF_ENTRY_REGISTERED, "be-intake", "paid", filed),
        (DUTY_PAYMENT_RECEIVED, "icegate-e-payment", "paid", filed),
        (RMS_DECISION_MADE, "rms-router", "assessed", filed + timedelta(seconds=1)),
        (OUT_OF_CHARGE_ISSUED, "ooc-issuer", "released", filed + timedelta(seconds=2)),
    ]
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            _CASE, {"port_code": "INNSA1", "be_no": be_no, "be_date": be_date, "at": filed}
        )
        for event_type, producer, status, at in entries:
            values = {"event_type": event_type, "producer": producer, "status": status, "at": at}
            await session.execute(
                _ENTRY, values | {"be_no": be_no, "be_date": be_date, "reasons": json.dumps([])}
            )
    async with session_factory(engine)() as session:
        [found] = await operations.search(session, be_no=be_no, be_date=be_date)
    assert found["registered_at"] == filed
    assert found["rms_decided_at"] == filed + timedelta(seconds=1)
    assert found["released_at"] == filed + timedelta(seconds=2)


async def test_an_officers_search_is_confined_to_its_locations(engine: AsyncEngine) -> None:
    """The staff search with `port_codes` (an officer's `location` claims) finds no BE of
    another customs location; without it (an administrator) it finds both."""
    be_no, be_date = f"{secrets.randbelow(10**7):07d}", date(2099, 1, 3)
    at = datetime(2099, 1, 3, 10, tzinfo=UTC)
    async with session_factory(engine)() as session, session.begin():
        for port_code in ("INNSA1", "INMAA1"):
            values = {"port_code": port_code, "be_no": be_no, "be_date": be_date, "at": at}
            await session.execute(_CASE, values)
    async with session_factory(engine)() as session:
        mine = await operations.search(session, be_no=be_no, port_codes=["INNSA1"])
        none = await operations.search(session, be_no=be_no, port_codes=[])
        every = await operations.search(session, be_no=be_no)
    assert [row["port_code"] for row in mine] == ["INNSA1"]
    assert none == []
    assert sorted(row["port_code"] for row in every) == ["INMAA1", "INNSA1"]


async def test_the_not_terminal_gauge_counts_waiting_and_dead_lettered_bes_only(
    engine: AsyncEngine,
) -> None:
    """BillsOfEntryNotTerminal's gauge: a BE still waiting, a case with no status yet and a
    BE known only by a dead letter count; a released BE, however old, does not (issue 18:
    the waiting ones are chosen before their milestones are read)."""
    cutoff = datetime(1999, 1, 1, tzinfo=UTC)
    sessions = session_factory(engine)
    async with sessions() as session:
        before, _ = await operations.not_terminal(session, cutoff)
    be_date = date(2098, 3, 4)
    numbers = [f"{secrets.randbelow(10**7):07d}" for _ in range(4)]
    released, waiting, unreadable, paid_first = numbers
    async with engine.begin() as conn:
        for be_no, status, seen in [
            (released, "released", datetime(1989, 1, 1, tzinfo=UTC)),
            (waiting, "accepted", datetime(1990, 1, 1, tzinfo=UTC)),
            (paid_first, None, datetime(1992, 1, 1, tzinfo=UTC)),  # a case with no status yet
        ]:
            await conn.execute(
                _CASE.bindparams(),
                {"port_code": "INNSA1", "be_no": be_no, "be_date": be_date, "at": seen},
            )
            await conn.execute(
                text("UPDATE intake_case SET status = :status WHERE be_no = :be_no"),
                {"status": status, "be_no": be_no},
            )
            await conn.execute(
                _ENTRY,
                {
                    "be_no": be_no,
                    "be_date": be_date,
                    "event_type": BILL_OF_ENTRY_REGISTERED,
                    "producer": "be-intake",
                    "status": status,
                    "reasons": "[]",
                    "at": seen,
                },
            )
        await conn.execute(
            text(
                "INSERT INTO dead_letter (port_code, be_no, be_date, consumer, event_type, reason,"
                " dlq_topic, dlq_partition, dlq_offset, dead_lettered_at) VALUES ('INNSA1',"
                " :be_no, :be_date, 'be-intake', 'x', 'malformed', 'x.dlq', 0, :offset, :at)"
            ),
            {
                "be_no": unreadable,
                "be_date": be_date,
                "offset": secrets.randbelow(10**9),
                "at": datetime(1991, 1, 1, tzinfo=UTC),
            },
        )
    async with sessions() as session:
        after, oldest = await operations.not_terminal(session, cutoff)
    assert after - before == 3  # the waiting one, the one with no status, the unreadable one
    assert oldest is not None
    assert oldest <= datetime(1990, 1, 1, tzinfo=UTC)
