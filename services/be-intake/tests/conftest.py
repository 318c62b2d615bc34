"""In-memory fakes of be-intake's ports, for handler tests without servers; and for the
integration tests, be-intake's schema on the test stack's PostgreSQL (`engine`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from be_intake.bootstrap import MIGRATIONS, POLICIES, POLICY_KINDS
from be_intake.config import Settings
from be_intake.domain.case import IntakeCase
from be_intake.service_layer.handlers import render_events
from be_intake.service_layer.unit_of_work import NewBillOfEntry, TimelineEntry
from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.clock import ControllableClock
from clearance_runtime.database import create_engine
from clearance_runtime.migrations import upgrade
from clearance_runtime.policies import Policies, in_memory
from clearance_runtime.testing import FakeUnitOfWork
from sqlalchemy.ext.asyncio import AsyncEngine


@pytest.fixture(scope="module")
async def engine(service_dsns: dict[str, str]) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=service_dsns["be_intake"]))
    await upgrade(engine, MIGRATIONS, "be_intake")
    yield engine
    await engine.dispose()


def policy_book() -> Policies:
    """The service's own policy files, as the running service loads them."""
    files = sorted(Path(POLICIES).glob("*.json"))
    return in_memory(POLICY_KINDS, [json.loads(path.read_text()) for path in files])


class FakeIntake:
    def __init__(self) -> None:
        self.saved: dict[Identity, dict[str, Any]] = {}
        self.bills: dict[Identity, NewBillOfEntry] = {}
        self.versions: dict[tuple[Identity, int], dict[str, Any]] = {}
        self.submissions: list[tuple[str, Identity | None, str]] = []
        self.timeline: list[TimelineEntry] = []
        self.directory: dict[str, dict[str, Any]] = {}
        self.routing: dict[str, dict[str, Any]] = {}
        self.arrivals: list[dict[str, Any]] = []
        self.dead_letters: list[tuple[Identity, str, str]] = []
        self.resolved: list[tuple[Identity, str]] = []

    async def cases(self, identities: Sequence[Identity]) -> dict[Identity, IntakeCase]:
        return {
            i: IntakeCase.from_data(i, self.saved[i]) if i in self.saved else IntakeCase(*i)
            for i in identities
        }

    def save(self, case: IntakeCase) -> None:
        self.saved[case.identity] = json.loads(json.dumps(case.to_data()))

    def case(self, identity: Identity) -> IntakeCase:
        return IntakeCase.from_data(identity, self.saved[identity])

    async def add_bills_of_entry(self, bills: Sequence[NewBillOfEntry]) -> set[Identity]:
        added = set()
        for bill in bills:
            jobs = {(b.filer, b.user_job_no, b.user_job_date) for b in self.bills.values()}
            job = (bill.filer, bill.user_job_no, bill.user_job_date)
            if bill.identity in self.bills or (bill.user_job_no and job in jobs):
                continue
            self.bills[bill.identity] = bill
            added.add(bill.identity)
        return added

    async def next_be_no(self, port_code: str, be_date: date) -> str:
        self.last_no = getattr(self, "last_no", 5000000) + 1
        return f"{self.last_no:07d}"

    async def registered_for_jobs(
        self, jobs: Sequence[tuple[str, str, date]]
    ) -> dict[tuple[str, str, date], Identity]:
        found = {(b.filer, b.user_job_no, b.user_job_date): i for i, b in self.bills.items()}
        return {job: found[job] for job in jobs if job in found}  # type: ignore[index]

    def add_version(
        self, ref: BillOfEntryRef, bill_of_entry: dict[str, Any], amendment: Any, event_id: str
    ) -> None:
        self.versions[ref.identity, ref.version] = bill_of_entry

    async def current_bill_of_entry(self, identity: Identity) -> dict[str, Any] | None:
        mine = [(v, be) for (i, v), be in self.versions.items() if i == identity]
        return max(mine, key=lambda pair: pair[0])[1] if mine else None

    def add_submission(
        self,
        kind: str,
        identity: Identity | None,
        event_id: str,
        outcome: str,
        reasons: Any,
        raw: Any,
    ) -> None:
        self.submissions.append((kind, identity, outcome))

    def add_timeline(self, entry: TimelineEntry) -> None:
        self.timeline.append(entry)

    def record_certificate(self, certificate: dict[str, Any]) -> None:
        self.directory[certificate["certificate_no"]] = certificate

    async def certificates(self, iecs: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for certificate in self.directory.values():
            if certificate["iec"] in iecs:
                found.setdefault(certificate["iec"], []).append(certificate)
        return found

    def record_routing(self, routing: dict[str, Any]) -> None:
        self.routing[routing["routing_id"]] = routing

    async def routings(self) -> list[dict[str, Any]]:
        return list(self.routing.values())

    def record_arrival(self, arrival: dict[str, Any]) -> None:
        self.arrivals.append(arrival)

    def _matches(self, arrival: dict[str, Any], case: IntakeCase) -> bool:
        bills = {line["master_bill_no"] for line in arrival.get("lines") or ()}
        same = (arrival["igm_no"], arrival["igm_date"]) == (case.igm_no, case.igm_date)
        return arrival["port_code"] == case.port_code and (
            same or bool(bills & set(case.master_bills))
        )

    async def arrivals_for(self, cases: Sequence[IntakeCase]) -> dict[Identity, dict[str, Any]]:
        return {
            case.identity: arrival
            for case in cases
            for arrival in self.arrivals
            if self._matches(arrival, case)
        }

    async def waiting_for(self, arrival: dict[str, Any]) -> list[Identity]:
        cases = [self.case(i) for i in self.saved]
        return [c.identity for c in cases if c.registered and self._matches(arrival, c)]

    def record_dead_letter(
        self, identity: Identity, *, consumer: str, event_type: str, reason: str, record: Any
    ) -> None:
        self.dead_letters.append((identity, consumer, reason))

    def resolve_dead_letters(self, identity: Identity, producer: str) -> None:
        self.resolved.append((identity, producer))


class FakeIntakeUnitOfWork(FakeUnitOfWork):
    def __init__(self, intake: FakeIntake, clock: Any = None) -> None:
        super().__init__(clock=clock, render_events=render_events)
        self.intake = intake


@pytest.fixture
def intake() -> FakeIntake:
    return FakeIntake()


@pytest.fixture(scope="session")
def book() -> Policies:
    return policy_book()


@pytest.fixture
def clock() -> ControllableClock:
    return ControllableClock(datetime(2025, 3, 20, 12, 0, tzinfo=UTC))


@pytest.fixture
def uow_of(intake: FakeIntake, clock: ControllableClock) -> Callable[[], FakeIntakeUnitOfWork]:
    return lambda: FakeIntakeUnitOfWork(intake, clock)
