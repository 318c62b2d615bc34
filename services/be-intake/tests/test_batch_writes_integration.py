"""be-intake's batch on real PostgreSQL (issue 18): the writes of a batch are one statement
per table whatever its number of BEs, and keep the order they were made in (timeline,
outbox), the last state of a case saved twice, and every row."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from be_intake.adapters.unit_of_work import SqlIntakeUnitOfWork
from be_intake.domain.case import IntakeCase
from be_intake.service_layer.handlers import handlers, render_events
from clearance_contracts import (
    AEO_CERTIFICATE_RECORDED,
    BILL_OF_ENTRY_FILED,
    DUTY_PAYMENT_RECEIVED,
    IGM_ENTERED_INWARD,
    RMS_DECISION_MADE,
    example,
)
from clearance_runtime.clock import ControllableClock
from clearance_runtime.database import session_factory
from clearance_runtime.testing import event
from clearance_runtime.unit_of_work import unit_of_work_factory
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.integration
BE_DATE = "2025-03-20"
NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


@dataclass
class Statements:
    """What the batch sent to PostgreSQL: round trips (one per statement or executemany)
    and statements executed (an executemany executes one per row)."""

    round_trips: int = 0
    executed: int = 0

    def __call__(self, conn: Any, cursor: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
        self.round_trips += 1
        self.executed += len(params) if many else 1


def _day(count: int) -> list[tuple[str, dict[str, Any]]]:
    """`count` fresh BEs as the benchmark files them: the filing, its payment and RMS's
    decision, in one batch."""
    first = 1_000_000 + secrets.randbelow(8_000_000)
    events: list[tuple[str, dict[str, Any]]] = []
    for n in range(count):
        be_no = f"{first + n:07d}"
        job = f"{first + n}"
        filing = {**example(BILL_OF_ENTRY_FILED), "be_no": be_no, "user_job_no": job}
        payment = {
            **example(DUTY_PAYMENT_RECEIVED),
            "be_no": be_no,
            "transaction_no": f"ECL{first + n}",
        }
        decision = example(RMS_DECISION_MADE)
        decision["bill_of_entry_ref"] = {**decision["bill_of_entry_ref"], "be_no": be_no}
        events += [(BILL_OF_ENTRY_FILED, filing), (DUTY_PAYMENT_RECEIVED, payment)]
        events += [(RMS_DECISION_MADE, decision)]
    return events


async def _run(
    engine: AsyncEngine, book: Any, events: list[tuple[str, dict[str, Any]]]
) -> tuple[Statements, list[str]]:
    """Handle the events in one unit of work, as the consumer does; the statements it sent
    and the ids of the events it published, in publishing order."""
    table = handlers(book)
    factory = unit_of_work_factory(
        session_factory(engine),
        "be-intake",
        "be_intake",
        clock=ControllableClock(NOW),
        kind=SqlIntakeUnitOfWork,
        render_events=render_events,
    )
    counted, published = Statements(), []
    sa_event.listen(engine.sync_engine, "before_cursor_execute", counted)
    try:
        async with factory() as uow:
            publish = uow.publish

            def spy(event_type: str, subject: str, data: dict[str, Any], **kw: Any) -> Any:
                sent = publish(event_type, subject, data, **kw)
                published.append(sent.id)
                return sent

            uow.publish = spy  # type: ignore[method-assign]
            for event_type, data in events:
                await table[event_type](event(event_type, data), uow)
    finally:
        sa_event.remove(engine.sync_engine, "before_cursor_execute", counted)
    return counted, published


async def test_a_batchs_writes_are_one_statement_per_table_whatever_its_size(
    engine: AsyncEngine, book: Any
) -> None:
    """Issue 18: 40 BEs cost the database as many statements as 5 (INTAKE-BE-1 for each)."""
    small, _ = await _run(engine, book, _day(5))
    large, _ = await _run(engine, book, _day(40))
    print(f"\n5 BEs: {small}\n40 BEs: {large}")
    assert large.round_trips == small.round_trips
    assert large.executed == small.executed


async def test_every_row_is_written_in_the_order_it_was_made(
    engine: AsyncEngine, book: Any
) -> None:
    """The timeline in the order of the batch's facts, the outbox in publishing order (the
    relay's order per BE), one case, one version and one submission per BE."""
    events = _day(12)
    _, published = await _run(engine, book, events)
    be_nos = [data["be_no"] for event_type, data in events if event_type == BILL_OF_ENTRY_FILED]
    async with engine.connect() as conn:
        outbox = (
            await conn.execute(
                text("SELECT event_id FROM outbox WHERE event_id = ANY(:ids) ORDER BY id"),
                {"ids": published},
            )
        ).scalars()
        assert list(outbox) == published
        cases = (
            await conn.execute(
                text(
                    "SELECT be_no, registered, status, master_bills, state->>'status' AS s "
                    "FROM intake_case WHERE be_no = ANY(:be_nos) AND be_date = :d"
                ),
                {"be_nos": be_nos, "d": date.fromisoformat(BE_DATE)},
            )
        ).all()
        assert sorted(c.be_no for c in cases) == sorted(be_nos)
        assert all(c.registered and c.status == c.s for c in cases)
        assert all(c.master_bills == ["MAEU248817362"] for c in cases)
        for table in ("bill_of_entry_version", "submission"):
            count = await conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE be_no = ANY(:be_nos) AND be_date = :d"),
                {"be_nos": be_nos, "d": date.fromisoformat(BE_DATE)},
            )
            assert count.scalar_one() == len(be_nos)
        timeline = (
            await conn.execute(
                text(
                    "SELECT event_type FROM timeline WHERE be_no = :be_no AND be_date = :d "
                    "ORDER BY id"
                ),
                {"be_no": be_nos[0], "d": date.fromisoformat(BE_DATE)},
            )
        ).scalars()
        assert list(timeline) == [
            "clearance.bill-of-entry.registered.v1",
            AEO_CERTIFICATE_RECORDED,  # the filing claims a tier the directory lacks
            DUTY_PAYMENT_RECEIVED,
            RMS_DECISION_MADE,
        ]


async def test_a_case_saved_twice_in_a_batch_keeps_its_last_state(engine: AsyncEngine) -> None:
    """Two saves of one case in one unit of work (two timers of one BE) upsert once, the
    last state winning, as two statements in a row would."""
    identity = ("INNSA1", f"{1_000_000 + secrets.randbelow(8_000_000):07d}", date(2025, 3, 20))
    factory = unit_of_work_factory(
        session_factory(engine), "be-intake", "be_intake", kind=SqlIntakeUnitOfWork
    )
    async with factory() as uow:
        uow.intake.save(IntakeCase(*identity, registered=True, version=1, iec="A"))
        uow.intake.save(IntakeCase(*identity, registered=True, version=2, iec="B"))
    async with factory() as uow:
        [case] = (await uow.intake.cases([identity])).values()
    assert (case.version, case.iec) == (2, "B")


async def test_each_be_of_a_batch_gets_the_arrival_of_its_igm_or_master_bill(
    engine: AsyncEngine, book: Any
) -> None:
    """INTAKE-PRIOR-1 reads the carrier's arrival: by the BE's IGM, else by one of its
    master bills, at its own port only; found for a whole batch at once."""
    n = 1_000_000 + secrets.randbelow(8_000_000)
    igm = {"a": f"{n:07d}", "b": f"{n + 1:07d}", "c": f"{n + 2:07d}", "z": f"{n + 3:07d}"}
    bills = {k: f"MAEU{n:09d}{k.upper()}" for k in "abc"}

    def arrival(igm_no: str, bill: str, port: str = "INNSA1") -> tuple[str, dict[str, Any]]:
        data = {**example(IGM_ENTERED_INWARD), "port_code": port, "igm_no": igm_no}
        data["lines"] = [{"master_bill_no": bill, "house_bill_no": f"H{bill}"}]
        return IGM_ENTERED_INWARD, data

    arrivals = [arrival(igm["a"], "MAEU000000000"), arrival(igm["z"], bills["b"])]
    arrivals.append(arrival(igm["c"], bills["c"], port="INMAA1"))
    await _run(engine, book, arrivals)
    filings = []
    for k in "abc":
        filing = {**example(BILL_OF_ENTRY_FILED), "be_no": f"{n + ord(k):07d}"}
        filing["user_job_no"] = f"{n + ord(k)}"
        filing["igm"] = {**filing["igm"], "igm_no": igm[k]}
        filing["house_bills"] = [{**filing["house_bills"][0], "master_bill_no": bills[k]}]
        filings.append((BILL_OF_ENTRY_FILED, filing))
    await _run(engine, book, filings)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT be_no, state->'arrival'->>'igm_no' AS igm_no FROM intake_case "
                "WHERE be_no = ANY(:be_nos) AND be_date = :d"
            ),
            {"be_nos": [f["be_no"] for _, f in filings], "d": date.fromisoformat(BE_DATE)},
        )
        found = {row.be_no: row.igm_no for row in rows}
    assert found == {
        f"{n + ord('a'):07d}": igm["a"],  # its IGM
        f"{n + ord('b'):07d}": igm["z"],  # its master bill, on another IGM
        f"{n + ord('c'):07d}": None,  # its master bill arrived at another port only
    }
