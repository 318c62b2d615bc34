"""In-memory fakes of be-intake's ports, for handler tests without servers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from be_intake.domain.status import Status, StatusChange, next_status
from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.testing import FakeUnitOfWork


class FakeIntake:
    def __init__(self) -> None:
        self.registered: dict[Identity, BillOfEntryRef] = {}
        self.status: dict[Identity, Status] = {}
        self.history: list[tuple[Identity, str, StatusChange]] = []
        self.dead_letters: list[tuple[Identity, str, str]] = []
        self.resolved: list[tuple[Identity, str]] = []

    async def add_bill_of_entry(
        self, ref: BillOfEntryRef, filing: dict[str, Any], event_id: str
    ) -> bool:
        if ref.identity in self.registered:
            return False
        self.registered[ref.identity] = ref
        return True

    def record_status(
        self, identity: Identity, event_type: str, producer: str, change: StatusChange
    ) -> None:
        incoming = Status(change.stage, change.version, change.out_of_charge_no is not None)
        self.status[identity] = next_status(self.status.get(identity), incoming)
        self.history.append((identity, event_type, change))
        self.resolved.append((identity, producer))

    def record_dead_letter(
        self, identity: Identity, *, consumer: str, event_type: str, reason: str, record: Any
    ) -> None:
        self.dead_letters.append((identity, consumer, reason))


class FakeIntakeUnitOfWork(FakeUnitOfWork):
    def __init__(self, intake: FakeIntake) -> None:
        super().__init__()
        self.intake = intake


@pytest.fixture
def intake() -> FakeIntake:
    return FakeIntake()


@pytest.fixture
def new_uow(intake: FakeIntake) -> Callable[[], FakeIntakeUnitOfWork]:
    return lambda: FakeIntakeUnitOfWork(intake)
