"""SQL of rms-router: BE files, decisions, officers' tasks and queues, importers'
records, the audit trail (schema `rms_router`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from clearance_domain import BillOfEntryRef, Identity
from clearance_domain.reasons import reasons_data
from clearance_runtime.sql import IDENTITIES, identity_params
from clearance_runtime.unit_of_work import SqlUnitOfWork
from sqlalchemy import text

from rms_router.domain.audit import AuditEntry
from rms_router.domain.bill import BillFile
from rms_router.domain.decision import RmsDecision
from rms_router.domain.facts import History, RiskFacts
from rms_router.domain.work import BILL_OF_ENTRY, NewTask, Task
from rms_router.service_layer.unit_of_work import TaskDetail


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _key(identity: Identity) -> dict[str, Any]:
    return {"port_code": identity[0], "be_no": identity[1], "be_date": identity[2]}


_FILES = text(
    f"SELECT b.* FROM rms_bill_of_entry b JOIN {IDENTITIES} USING (port_code, be_no, be_date)"
)
_SAVE_FILE = text(
    "INSERT INTO rms_bill_of_entry (port_code, be_no, be_date, iec, registered_version, "
    "decided_version, assessment_group, pending, tampered_at_export, invalidated_at) "
    "VALUES (:port_code, :be_no, :be_date, :iec, :registered_version, :decided_version, "
    ":assessment_group, CAST(:pending AS jsonb), CAST(:tampered AS jsonb), :invalidated_at) "
    "ON CONFLICT (port_code, be_no, be_date) DO UPDATE SET iec = EXCLUDED.iec, "
    "registered_version = EXCLUDED.registered_version, "
    "decided_version = EXCLUDED.decided_version, assessment_group = EXCLUDED.assessment_group, "
    "pending = EXCLUDED.pending, tampered_at_export = EXCLUDED.tampered_at_export, "
    "invalidated_at = EXCLUDED.invalidated_at"
)


class SqlBills:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def files(self, identities: Sequence[Identity]) -> dict[Identity, BillFile]:
        if not identities:
            return {}
        rows = await self.uow.session.execute(_FILES, identity_params(identities))
        files = {}
        for row in rows:
            identity = (row.port_code, row.be_no, row.be_date)
            files[identity] = BillFile(
                identity=identity,
                iec=row.iec,
                registered_version=row.registered_version,
                decided_version=row.decided_version,
                assessment_group=row.assessment_group,
                pending={int(v): parts for v, parts in row.pending.items()},
                tampered_at_export=row.tampered_at_export,
                invalidated_at=row.invalidated_at,
            )
        return files

    def save(self, file: BillFile) -> None:
        self.uow.defer(
            _SAVE_FILE,
            {
                **_key(file.identity),
                "iec": file.iec,
                "registered_version": file.registered_version,
                "decided_version": file.decided_version,
                "assessment_group": file.assessment_group,
                "pending": _json({str(v): parts for v, parts in file.pending.items()}),
                "tampered": None
                if file.tampered_at_export is None
                else _json(file.tampered_at_export),
                "invalidated_at": file.invalidated_at,
            },
        )


_INSERT_DECISION = text(
    "INSERT INTO rms_decision (port_code, be_no, be_date, version, outcome, assessment_group, "
    "reasons, decided_at, selections, rule_set_version, fired_rules, examination_instructions, "
    "partner_agencies, interdiction, facts) VALUES (:port_code, :be_no, :be_date, :version, "
    ":outcome, :group, CAST(:reasons AS jsonb), :decided_at, :selections, :rule_set_version, "
    ":fired_rules, :instructions, :agencies, CAST(:interdiction AS jsonb), "
    "CAST(:facts AS jsonb)) ON CONFLICT DO NOTHING"
)


class SqlDecisions:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    def add(
        self, ref: BillOfEntryRef, decision: RmsDecision, facts: RiskFacts, at: datetime
    ) -> None:
        interdiction = decision.interdiction
        self.uow.defer(
            _INSERT_DECISION,
            {
                **_key(ref.identity),
                "version": ref.version,
                "outcome": decision.outcome,
                "group": decision.assessment_group,
                "reasons": _json(reasons_data(list(decision.reasons))),
                "decided_at": at,
                "selections": list(decision.selections),
                "rule_set_version": decision.rule_set.version,
                "fired_rules": list(decision.fired_rules),
                "instructions": decision.examination_instructions,
                "agencies": list(decision.partner_agencies),
                "interdiction": None if interdiction is None else _json(interdiction.to_data()),
                "facts": _json(facts.to_data()),
            },
        )


_TASK_COLUMNS = (
    "task_id, port_code, be_no, be_date, version, document, kind, queue, state, agency, "
    "after_kind, claimed_by, claim_no, instructions, summary, position, claimed_at, "
    "claim_expires_at, opened_at, completed_at, result"
)
_TASKS_OF = text(
    f"SELECT {_TASK_COLUMNS} FROM officer_task t "
    f"JOIN {IDENTITIES} USING (port_code, be_no, be_date) WHERE t.document = :document "
    "ORDER BY task_id FOR UPDATE OF t"
)
_ADD_TASK = text(
    "INSERT INTO officer_task (port_code, be_no, be_date, version, document, kind, queue, "
    "agency, after_kind, instructions, state, position, summary, created_at, opened_at) VALUES "
    "(:port_code, :be_no, :be_date, :version, :document, :kind, :queue, :agency, :after, "
    ":instructions, :state, CASE WHEN :state = 'open' THEN nextval('officer_task_position') END, "
    "CAST(:summary AS jsonb), :at, CASE WHEN :state = 'open' THEN CAST(:at AS timestamptz) END)"
)
_ADD_LIKE = text(
    "INSERT INTO officer_task (port_code, be_no, be_date, version, document, kind, queue, "
    "agency, after_kind, instructions, state, position, summary, created_at, opened_at) "
    "SELECT port_code, be_no, be_date, version, document, :kind, :queue, :agency, :after, "
    ":instructions, "
    ":state, CASE WHEN :state = 'open' THEN nextval('officer_task_position') END, summary, :at, "
    "CASE WHEN :state = 'open' THEN CAST(:at AS timestamptz) END "
    "FROM officer_task WHERE task_id = :source"
)
_MOVE = text(
    "UPDATE officer_task SET version = :version, "
    "state = CASE WHEN state = 'claimed' THEN 'open' ELSE state END, claimed_by = NULL, "
    "claim_expires_at = NULL WHERE task_id = :task_id"
)
_WITHDRAW = text(
    "UPDATE officer_task SET state = 'withdrawn', completed_at = :at, claimed_by = NULL, "
    "claim_expires_at = NULL WHERE task_id = :task_id AND state IN ('waiting', 'open', 'claimed')"
)
_OPEN = text(
    "UPDATE officer_task SET state = 'open', position = nextval('officer_task_position'), "
    "opened_at = :at WHERE task_id = :task_id AND state = 'waiting'"
)
_CLAIM_NEXT = text(
    f"UPDATE officer_task SET state = 'claimed', claimed_by = :officer, claim_no = claim_no + 1, "
    "claimed_at = :at, claim_expires_at = :expires_at WHERE task_id = ("
    "SELECT task_id FROM officer_task WHERE queue = :queue AND state = 'open' "
    "AND (CAST(:kind AS text) IS NULL OR kind = :kind) "
    "ORDER BY position LIMIT 1 FOR UPDATE SKIP LOCKED) "
    f"RETURNING {_TASK_COLUMNS}"
)
_GET = text(f"SELECT {_TASK_COLUMNS} FROM officer_task WHERE task_id = :task_id FOR UPDATE")
_RELEASE = text(
    "UPDATE officer_task SET state = 'open', claimed_by = NULL, claim_expires_at = NULL "
    "WHERE task_id = :task_id AND state = 'claimed' AND claim_no = :claim_no"
)
_COMPLETE = text(
    "UPDATE officer_task SET state = 'done', completed_at = :at, result = CAST(:result AS jsonb), "
    "claim_expires_at = NULL WHERE task_id = :task_id"
)


def _task(row: Any) -> Task:
    return Task(
        task_id=row.task_id,
        ref=BillOfEntryRef(row.port_code, row.be_no, row.be_date, row.version),
        kind=row.kind,
        queue=row.queue,
        state=row.state,
        agency=row.agency,
        after=row.after_kind,
        claimed_by=row.claimed_by,
        claim_no=row.claim_no,
        document=row.document,
    )


def _detail(row: Any) -> TaskDetail:
    return TaskDetail(
        task=_task(row),
        instructions=row.instructions,
        summary=row.summary or {},
        position=row.position,
        claimed_at=row.claimed_at,
        claim_expires_at=row.claim_expires_at,
        opened_at=row.opened_at,
        completed_at=row.completed_at,
        result=row.result,
    )


class SqlTasks:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def of_bills(
        self, identities: Sequence[Identity], document: str = BILL_OF_ENTRY
    ) -> dict[Identity, list[Task]]:
        if not identities:
            return {}
        await self.uow.flush()
        params = {**identity_params(identities), "document": document}
        rows = await self.uow.session.execute(_TASKS_OF, params)
        tasks: dict[Identity, list[Task]] = {}
        for row in rows:
            task = _task(row)
            tasks.setdefault(task.ref.identity, []).append(task)
        return tasks

    def _new(self, task: NewTask, at: datetime) -> dict[str, Any]:
        return {
            "kind": task.kind,
            "queue": task.queue,
            "agency": task.agency,
            "after": task.after,
            "instructions": task.instructions,
            "state": task.state,
            "at": at,
        }

    def add(
        self,
        ref: BillOfEntryRef,
        task: NewTask,
        summary: Mapping[str, Any],
        at: datetime,
        document: str = BILL_OF_ENTRY,
    ) -> None:
        self.uow.defer(
            _ADD_TASK,
            {
                **_key(ref.identity),
                "version": ref.version,
                "document": document,
                **self._new(task, at),
                "summary": _json(summary),
            },
        )

    def add_like(self, source: Task, task: NewTask, at: datetime) -> None:
        self.uow.defer(_ADD_LIKE, {**self._new(task, at), "source": source.task_id})

    def move_to_version(self, task: Task, version: int) -> None:
        self.uow.defer(_MOVE, {"task_id": task.task_id, "version": version})

    def withdraw(self, task: Task, at: datetime) -> None:
        self.uow.defer(_WITHDRAW, {"task_id": task.task_id, "at": at})

    def open(self, task: Task, at: datetime) -> None:
        self.uow.defer(_OPEN, {"task_id": task.task_id, "at": at})

    async def claim_next(
        self, queue: str, kind: str | None, officer: str, at: datetime, expires_at: datetime
    ) -> TaskDetail | None:
        params = {
            "queue": queue,
            "kind": kind,
            "officer": officer,
            "at": at,
            "expires_at": expires_at,
        }
        row = (await self.uow.session.execute(_CLAIM_NEXT, params)).first()
        return None if row is None else _detail(row)

    async def get(self, task_id: int) -> TaskDetail | None:
        row = (await self.uow.session.execute(_GET, {"task_id": task_id})).first()
        return None if row is None else _detail(row)

    async def release(self, task_id: int, claim_no: int) -> bool:
        result = await self.uow.session.execute(
            _RELEASE, {"task_id": task_id, "claim_no": claim_no}
        )
        return bool(getattr(result, "rowcount", 0))

    async def complete(self, task_id: int, result: Mapping[str, Any], at: datetime) -> None:
        await self.uow.session.execute(
            _COMPLETE, {"task_id": task_id, "at": at, "result": _json(result)}
        )


_HISTORIES = text(
    "SELECT iec, examinations, discrepancies, reassessments, refused_nocs "
    "FROM importer_history WHERE iec = ANY(:iecs)"
)
_COUNT = text(
    "INSERT INTO importer_history (iec, examinations, discrepancies, reassessments, "
    "refused_nocs) SELECT b.iec, :examinations, :discrepancies, :reassessments, :refused_nocs "
    "FROM rms_bill_of_entry b WHERE b.port_code = :port_code AND b.be_no = :be_no "
    "AND b.be_date = :be_date AND b.iec IS NOT NULL "
    "ON CONFLICT (iec) DO UPDATE SET "
    "examinations = importer_history.examinations + EXCLUDED.examinations, "
    "discrepancies = importer_history.discrepancies + EXCLUDED.discrepancies, "
    "reassessments = importer_history.reassessments + EXCLUDED.reassessments, "
    "refused_nocs = importer_history.refused_nocs + EXCLUDED.refused_nocs"
)


class SqlImporters:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def histories(self, iecs: Sequence[str]) -> dict[str, History]:
        if not iecs:
            return {}
        rows = await self.uow.session.execute(_HISTORIES, {"iecs": list(iecs)})
        return {
            row.iec: History(
                row.examinations, row.discrepancies, row.reassessments, row.refused_nocs
            )
            for row in rows
        }

    def count(self, identity: Identity, change: History) -> None:
        self.uow.defer(_COUNT, {**_key(identity), **change.to_data()})


_APPEND = text(
    "INSERT INTO audit_entry (port_code, be_no, be_date, version, document, at, actor, action, "
    "reasons, detail) VALUES (:port_code, :be_no, :be_date, :version, :document, :at, :actor, "
    ":action, CAST(:reasons AS jsonb), CAST(:detail AS jsonb))"
)


class SqlAudit:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    def append(self, entry: AuditEntry) -> None:
        self.uow.defer(
            _APPEND,
            {
                **_key(entry.ref.identity),
                "version": entry.ref.version,
                "document": entry.document,
                "at": entry.at,
                "actor": entry.actor,
                "action": entry.action,
                "reasons": _json(reasons_data(list(entry.reasons))),
                "detail": _json(dict(entry.detail)),
            },
        )


_CLAIM_ROUTING = text(
    "INSERT INTO assessment_routing_published (policy_id, version, published_at) "
    "VALUES (:policy_id, :version, :at) ON CONFLICT DO NOTHING RETURNING version"
)


class SqlRoutingPublications:
    """The rule-set versions whose routing is published (`assessment_routing_published`)."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def claim(self, policy_id: str, version: int, at: datetime) -> bool:
        """True the first time a version is claimed (a concurrent claim waits for this
        transaction and then finds it taken)."""
        params = {"policy_id": policy_id, "version": version, "at": at}
        return (await self.uow.session.execute(_CLAIM_ROUTING, params)).first() is not None
