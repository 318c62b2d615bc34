"""What rms-router's handlers may touch in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.unit_of_work import UnitOfWork

from rms_router.domain.audit import AuditEntry
from rms_router.domain.bill import BillFile
from rms_router.domain.decision import RmsDecision
from rms_router.domain.facts import History, RiskFacts
from rms_router.domain.work import BILL_OF_ENTRY, NewTask, Task


class Bills(Protocol):
    """rms-router's file on each BE (`rms_bill_of_entry`)."""

    async def files(self, identities: Sequence[Identity]) -> dict[Identity, BillFile]:
        """The files of these BEs that exist."""
        ...

    def save(self, file: BillFile) -> None:
        """Store the file as it is now (at commit)."""
        ...


class Decisions(Protocol):
    def add(
        self, ref: BillOfEntryRef, decision: RmsDecision, facts: RiskFacts, at: datetime
    ) -> None:
        """Record the decision on this version with the facts it was taken on (at commit)."""
        ...


@dataclass(frozen=True, slots=True)
class TaskDetail:
    """A task with what an officer sees of it."""

    task: Task
    instructions: str | None
    summary: Mapping[str, Any]
    position: int | None
    claimed_at: datetime | None
    claim_expires_at: datetime | None
    opened_at: datetime | None
    completed_at: datetime | None
    result: Mapping[str, Any] | None


class Tasks(Protocol):
    """The officers' tasks and their FIFO queues (`officer_task`)."""

    async def of_bills(
        self, identities: Sequence[Identity], document: str = BILL_OF_ENTRY
    ) -> dict[Identity, list[Task]]:
        """Every task of these BEs (or Shipping Bills), locked for this transaction."""
        ...

    def add(
        self,
        ref: BillOfEntryRef,
        task: NewTask,
        summary: Mapping[str, Any],
        at: datetime,
        document: str = BILL_OF_ENTRY,
    ) -> None:
        """A new task; an open one joins the back of its queue (at commit)."""
        ...

    def add_like(self, source: Task, task: NewTask, at: datetime) -> None:
        """A new task for the BE and version of `source`, with its summary (at commit)."""
        ...

    def move_to_version(self, task: Task, version: int) -> None:
        """An unfinished task now serves this version (a claim on it is released)."""
        ...

    def withdraw(self, task: Task, at: datetime) -> None: ...

    def open(self, task: Task, at: datetime) -> None:
        """A waiting task joins the back of its queue."""
        ...

    async def claim_next(
        self, queue: str, kind: str | None, officer: str, at: datetime, expires_at: datetime
    ) -> TaskDetail | None:
        """Claim the first open task of the queue (of that kind), FIFO; None when empty."""
        ...

    async def get(self, task_id: int) -> TaskDetail | None:
        """A task, locked for this transaction."""
        ...

    async def release(self, task_id: int, claim_no: int) -> bool:
        """Put a claimed task back at its place in its queue, if that claim still holds."""
        ...

    async def complete(self, task_id: int, result: Mapping[str, Any], at: datetime) -> None: ...


class Importers(Protocol):
    """The importers' records from the officers' results (`importer_history`)."""

    async def histories(self, iecs: Sequence[str]) -> dict[str, History]: ...

    def count(self, identity: Identity, change: History) -> None:
        """Add `change` to the record of the BE's importer (at commit)."""
        ...


class Audit(Protocol):
    def append(self, entry: AuditEntry) -> None:
        """Append an entry to the BE's audit trail (at commit); entries never change."""
        ...


class RoutingPublications(Protocol):
    """The rule-set versions whose assessment routing is published (RMS-FAG-1)."""

    async def claim(self, policy_id: str, version: int, at: datetime) -> bool:
        """True the first time a version is claimed: publish it then, in this transaction."""
        ...


class RmsUnitOfWork(UnitOfWork, Protocol):
    @property
    def bills(self) -> Bills: ...

    @property
    def decisions(self) -> Decisions: ...

    @property
    def tasks(self) -> Tasks: ...

    @property
    def importers(self) -> Importers: ...

    @property
    def audit(self) -> Audit: ...

    @property
    def routing(self) -> RoutingPublications: ...
