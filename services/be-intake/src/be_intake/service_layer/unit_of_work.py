"""What be-intake's handlers may touch in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.unit_of_work import UnitOfWork

from be_intake.domain.case import IntakeCase


@dataclass(frozen=True)
class NewBillOfEntry:
    """A valid filing to register: its identity and the filer's job (duplicates)."""

    identity: Identity
    filer: str
    user_job_no: str | None
    user_job_date: date | None
    be_type: str
    iec: str
    filing: dict[str, Any]
    event_id: str


@dataclass(frozen=True)
class TimelineEntry:
    """One fact in a BE's timeline, from whichever service, with its reasons."""

    identity: Identity
    version: int
    event_type: str
    producer: str
    summary: str
    at: datetime
    status: str | None = None
    notice_code: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)


class Intake(Protocol):
    async def cases(self, identities: Sequence[Identity]) -> dict[Identity, IntakeCase]:
        """The cases of these BEs, locked until commit (new, empty ones for BEs unknown)."""
        ...

    def save(self, case: IntakeCase) -> None:
        """Write the case at commit."""
        ...

    async def add_bills_of_entry(self, bills: Sequence[NewBillOfEntry]) -> set[Identity]:
        """Register these BEs; the identities registered now (the others are duplicates:
        the same identity, or the same job number and date from the same filer)."""
        ...

    async def registered_for_jobs(
        self, jobs: Sequence[tuple[str, str, date]]
    ) -> dict[tuple[str, str, date], Identity]:
        """The BE already registered for each (filer, job number, job date) given."""
        ...

    async def next_be_no(self, port_code: str, be_date: date) -> str:
        """The next BE number of the custom house (a sequence, never reused; issue 9)."""
        ...

    def add_version(
        self,
        ref: BillOfEntryRef,
        bill_of_entry: dict[str, Any],
        amendment: dict[str, Any] | None,
        event_id: str,
    ) -> None:
        """Keep the BE as registered in this version."""
        ...

    async def current_bill_of_entry(self, identity: Identity) -> dict[str, Any] | None:
        """The BE as its latest version reads."""
        ...

    def add_submission(
        self,
        kind: str,
        identity: Identity | None,
        event_id: str,
        outcome: str,
        reasons: list[dict[str, Any]],
        raw: dict[str, Any],
    ) -> None:
        """Keep what was submitted, whatever became of it."""
        ...

    def add_timeline(self, entry: TimelineEntry) -> None: ...

    def record_certificate(self, certificate: dict[str, Any]) -> None:
        """The AEO directory's latest state of a certificate (a newer one wins)."""
        ...

    async def certificates(self, iecs: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Every certificate of these IECs."""
        ...

    def record_routing(self, routing: dict[str, Any]) -> None:
        """rms-router's assessment routing of a rule-set version (RMS-FAG-1), as published
        (`clearance.assessment-routing.published.v1`; a later publication wins)."""
        ...

    async def routings(self) -> list[dict[str, Any]]:
        """Every rule-set version's routing held: `rule_set`, `effective_from`,
        `effective_until`, `source_document`, `groups` as the event has them."""
        ...

    def record_arrival(self, arrival: dict[str, Any]) -> None: ...

    async def arrivals_for(self, cases: Sequence[IntakeCase]) -> dict[Identity, dict[str, Any]]:
        """The arrivals matching these BEs (by IGM, or by a master bill)."""
        ...

    async def waiting_for(self, arrival: dict[str, Any]) -> list[Identity]:
        """The BEs filed against this IGM (by number and date, or a master bill)."""
        ...

    def record_dead_letter(
        self, identity: Identity, *, consumer: str, event_type: str, reason: str, record: Any
    ) -> None:
        """Note that `consumer` gave up on an event about the BE."""
        ...

    def resolve_dead_letters(self, identity: Identity, producer: str) -> None:
        """`producer` moved the BE on: its dead letters about it are resolved."""
        ...


class IntakeUnitOfWork(UnitOfWork, Protocol):
    @property
    def intake(self) -> Intake: ...
