"""In-memory fakes of rms-router's ports, for handler tests without servers."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.clock import ControllableClock
from clearance_runtime.testing import FakeUnitOfWork
from rms_router.domain.audit import AuditEntry
from rms_router.domain.bill import BillFile
from rms_router.domain.decision import RmsDecision
from rms_router.domain.facts import History, RiskFacts
from rms_router.domain.work import (
    BILL_OF_ENTRY,
    CLAIMED,
    DONE,
    OPEN,
    UNFINISHED,
    WAITING,
    WITHDRAWN,
    NewTask,
    Task,
)
from rms_router.service_layer.unit_of_work import TaskDetail


class FakeBills:
    def __init__(self) -> None:
        self.rows: dict[Identity, BillFile] = {}

    async def files(self, identities: Sequence[Identity]) -> dict[Identity, BillFile]:
        return {i: copy.deepcopy(self.rows[i]) for i in identities if i in self.rows}

    def save(self, file: BillFile) -> None:
        self.rows[file.identity] = copy.deepcopy(file)


class FakeDecisions:
    def __init__(self) -> None:
        self.rows: dict[BillOfEntryRef, tuple[RmsDecision, RiskFacts]] = {}

    def add(
        self, ref: BillOfEntryRef, decision: RmsDecision, facts: RiskFacts, at: datetime
    ) -> None:
        self.rows.setdefault(ref, (decision, facts))


@dataclass
class Row:
    task: Task
    instructions: str | None
    summary: Mapping[str, Any]
    position: int | None
    claimed_at: datetime | None = None
    claim_expires_at: datetime | None = None
    opened_at: datetime | None = None
    completed_at: datetime | None = None
    result: Mapping[str, Any] | None = None

    def detail(self) -> TaskDetail:
        return TaskDetail(
            self.task,
            self.instructions,
            self.summary,
            self.position,
            self.claimed_at,
            self.claim_expires_at,
            self.opened_at,
            self.completed_at,
            self.result,
        )


@dataclass
class FakeTasks:
    rows: dict[int, Row] = field(default_factory=dict)
    next_position: int = 1

    def _position(self) -> int:
        self.next_position += 1
        return self.next_position

    def of_kind(self, kind: str, identity: Identity | None = None) -> list[Task]:
        return [
            row.task
            for row in self.rows.values()
            if row.task.kind == kind and (identity is None or row.task.ref.identity == identity)
        ]

    async def of_bills(
        self, identities: Sequence[Identity], document: str = BILL_OF_ENTRY
    ) -> dict[Identity, list[Task]]:
        found: dict[Identity, list[Task]] = {}
        for row in self.rows.values():
            if row.task.ref.identity in identities and row.task.document == document:
                found.setdefault(row.task.ref.identity, []).append(row.task)
        return found

    def add(
        self,
        ref: BillOfEntryRef,
        task: NewTask,
        summary: Mapping[str, Any],
        at: datetime,
        document: str = BILL_OF_ENTRY,
    ) -> None:
        task_id = len(self.rows) + 1
        self.rows[task_id] = Row(
            Task(
                task_id,
                ref,
                task.kind,
                task.queue,
                task.state,
                task.agency,
                task.after,
                document=document,
            ),
            task.instructions,
            dict(summary),
            self._position() if task.state == OPEN else None,
            opened_at=at if task.state == OPEN else None,
        )

    def add_like(self, source: Task, task: NewTask, at: datetime) -> None:
        self.add(source.ref, task, self.rows[source.task_id].summary, at, source.document)

    def _set(self, task_id: int, **changes: Any) -> None:
        row = self.rows[task_id]
        row.task = replace(row.task, **changes)

    def move_to_version(self, task: Task, version: int) -> None:
        row = self.rows[task.task_id]
        state = OPEN if row.task.state == CLAIMED else row.task.state
        self._set(task.task_id, ref=row.task.ref.at_version(version), state=state, claimed_by=None)

    def withdraw(self, task: Task, at: datetime) -> None:
        if self.rows[task.task_id].task.state in UNFINISHED:
            self._set(task.task_id, state=WITHDRAWN, claimed_by=None)

    def open(self, task: Task, at: datetime) -> None:
        row = self.rows[task.task_id]
        if row.task.state == WAITING:
            self._set(task.task_id, state=OPEN)
            row.position, row.opened_at = self._position(), at

    async def claim_next(
        self, queue: str, kind: str | None, officer: str, at: datetime, expires_at: datetime
    ) -> TaskDetail | None:
        candidates = [
            row
            for row in self.rows.values()
            if row.task.queue == queue
            and row.task.state == OPEN
            and (kind is None or row.task.kind == kind)
        ]
        if not candidates:
            return None
        row = min(candidates, key=lambda r: r.position or 0)
        self._set(
            row.task.task_id, state=CLAIMED, claimed_by=officer, claim_no=row.task.claim_no + 1
        )
        row.claimed_at, row.claim_expires_at = at, expires_at
        return row.detail()

    async def get(self, task_id: int) -> TaskDetail | None:
        row = self.rows.get(task_id)
        return None if row is None else row.detail()

    async def release(self, task_id: int, claim_no: int) -> bool:
        row = self.rows[task_id]
        if row.task.state != CLAIMED or row.task.claim_no != claim_no:
            return False
        self._set(task_id, state=OPEN, claimed_by=None)
        row.claim_expires_at = None
        return True

    async def complete(self, task_id: int, result: Mapping[str, Any], at: datetime) -> None:
        self._set(task_id, state=DONE)
        row = self.rows[task_id]
        row.completed_at, row.result, row.claim_expires_at = at, dict(result), None


class FakeImporters:
    def __init__(self, bills: FakeBills) -> None:
        self.bills = bills
        self.records: dict[str, History] = {}

    async def histories(self, iecs: Sequence[str]) -> dict[str, History]:
        return {iec: self.records[iec] for iec in iecs if iec in self.records}

    def count(self, identity: Identity, change: History) -> None:
        file = self.bills.rows.get(identity)
        if file is None or file.iec is None:
            return
        old = self.records.get(file.iec, History())
        self.records[file.iec] = History(
            old.examinations + change.examinations,
            old.discrepancies + change.discrepancies,
            old.reassessments + change.reassessments,
            old.refused_nocs + change.refused_nocs,
        )


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def actions(self) -> list[str]:
        return [entry.action for entry in self.entries]


class FakeRoutingPublications:
    def __init__(self) -> None:
        self.published: dict[tuple[str, int], datetime] = {}

    async def claim(self, policy_id: str, version: int, at: datetime) -> bool:
        if (policy_id, version) in self.published:
            return False
        self.published[policy_id, version] = at
        return True


@dataclass
class Stores:
    bills: FakeBills = field(default_factory=FakeBills)
    decisions: FakeDecisions = field(default_factory=FakeDecisions)
    tasks: FakeTasks = field(default_factory=FakeTasks)
    audit: FakeAudit = field(default_factory=FakeAudit)
    routing: FakeRoutingPublications = field(default_factory=FakeRoutingPublications)
    clock: ControllableClock = field(
        default_factory=lambda: ControllableClock(datetime(2025, 3, 20, 6, 0, tzinfo=UTC))
    )
    importers: FakeImporters = field(init=False)

    def __post_init__(self) -> None:
        self.importers = FakeImporters(self.bills)


class FakeRmsUnitOfWork(FakeUnitOfWork):
    def __init__(self, stores: Stores) -> None:
        super().__init__(clock=stores.clock)
        self.bills = stores.bills
        self.decisions = stores.decisions
        self.tasks = stores.tasks
        self.importers = stores.importers
        self.audit = stores.audit
        self.routing = stores.routing


@pytest.fixture
def stores() -> Stores:
    return Stores()


@pytest.fixture
def new_uow(stores: Stores) -> Callable[[], FakeRmsUnitOfWork]:
    return lambda: FakeRmsUnitOfWork(stores)
