"""In-memory fakes of warehouse-seal's ports, and the real policy files, for handler tests
without servers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from clearance_domain import Reason
from clearance_runtime.policies import Policies, in_memory
from clearance_runtime.testing import FakeUnitOfWork
from warehouse_seal.bootstrap import POLICIES
from warehouse_seal.domain.movements import Exemption
from warehouse_seal.domain.reconciliation import Bill
from warehouse_seal.domain.seals import Sale
from warehouse_seal.domain.trips import Trip
from warehouse_seal.service_layer.policies import POLICY_KINDS


class FakeSealRecords:
    """Dicts in place of tables; writes land at once (the fake has no commit to wait for),
    stored as data so that a read gives a fresh object, as the database would."""

    def __init__(self) -> None:
        self.sale_rows: dict[str, dict[str, Any]] = {}
        self.trip_rows: dict[str, dict[str, Any]] = {}
        self.claim_rows: dict[str, str] = {}
        self.bill_rows: dict[str, dict[str, Any]] = {}
        self.exemption_rows: dict[str, dict[str, Any]] = {}
        self.refusals: list[tuple[str, str, list[Reason]]] = []
        self.locked: list[list[str]] = []
        # Another transaction that commits while this one waits for its first lock.
        self.meanwhile: Callable[[], Awaitable[Any]] | None = None

    async def lock(self, subjects: Sequence[str]) -> None:
        self.locked.append(list(subjects))
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()

    async def sales(self, seal_nos: Sequence[str]) -> dict[str, Sale]:
        return {s: Sale.from_data(self.sale_rows[s]) for s in seal_nos if s in self.sale_rows}

    async def trips(self, seal_nos: Sequence[str]) -> dict[str, Trip]:
        return {s: Trip.from_data(self.trip_rows[s]) for s in seal_nos if s in self.trip_rows}

    async def claims(self, seal_nos: Sequence[str]) -> dict[str, str]:
        return {s: self.claim_rows[s] for s in seal_nos if s in self.claim_rows}

    async def bills(self, keys: Sequence[str]) -> dict[str, Bill]:
        return {k: Bill.from_data(self.bill_rows[k]) for k in keys if k in self.bill_rows}

    async def exemptions(self, keys: Sequence[str]) -> dict[str, Exemption]:
        return {
            k: Exemption.from_data(self.exemption_rows[k]) for k in keys if k in self.exemption_rows
        }

    def add_sale(self, sale: Sale) -> None:
        self.sale_rows.setdefault(sale.seal_no, sale.to_data())

    def save_trip(self, trip: Trip) -> None:
        self.trip_rows[trip.seal_no] = json.loads(json.dumps(trip.to_data()))

    def add_claim(self, seal_no: str, key: str) -> None:
        self.claim_rows.setdefault(seal_no, key)

    def save_bill(self, bill: Bill) -> None:
        self.bill_rows[bill.key] = json.loads(json.dumps(bill.to_data()))

    def save_exemption(self, key: str, exemption: Exemption) -> None:
        self.exemption_rows[key] = exemption.to_data()

    def add_refusal(
        self, seal_no: str, what: str, reasons: list[Reason], payload: Any, at: datetime
    ) -> None:
        self.refusals.append((seal_no, what, reasons))

    def trip(self, seal_no: str) -> Trip:
        return Trip.from_data(self.trip_rows[seal_no])

    def bill(self, key: str) -> Bill:
        return Bill.from_data(self.bill_rows[key])


class FakeSealUnitOfWork(FakeUnitOfWork):
    def __init__(self, seals: FakeSealRecords, clock: Any) -> None:
        super().__init__(clock=clock)
        self.seals = seals


def policy_files() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(Path(POLICIES).glob("*.json"))]


@pytest.fixture
def policies() -> Policies:
    return in_memory(POLICY_KINDS, policy_files())


@pytest.fixture
def records() -> FakeSealRecords:
    return FakeSealRecords()


@pytest.fixture
def new_uow(records: FakeSealRecords) -> Callable[..., FakeSealUnitOfWork]:
    from clearance_runtime.clock import ControllableClock

    clock = ControllableClock(datetime.fromisoformat("2025-03-21T12:00:00+05:30"))

    def make() -> FakeSealUnitOfWork:
        return FakeSealUnitOfWork(records, clock)

    make.clock = clock  # type: ignore[attr-defined]
    return make
