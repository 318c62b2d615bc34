"""What be-intake's handlers may touch in one transaction."""

from __future__ import annotations

from typing import Any, Protocol

from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.unit_of_work import UnitOfWork

from be_intake.domain.status import StatusChange


class Intake(Protocol):
    async def add_bill_of_entry(
        self, ref: BillOfEntryRef, filing: dict[str, Any], event_id: str
    ) -> bool:
        """Register the BE; False if a BE of this identity is already registered."""
        ...

    def record_status(
        self, identity: Identity, event_type: str, producer: str, change: StatusChange
    ) -> None:
        """Fold an event into the status view; it resolves `producer`'s dead letters."""
        ...

    def record_dead_letter(
        self, identity: Identity, *, consumer: str, event_type: str, reason: str, record: Any
    ) -> None:
        """Note that `consumer` gave up on an event about the BE."""
        ...


class IntakeUnitOfWork(UnitOfWork, Protocol):
    @property
    def intake(self) -> Intake: ...
