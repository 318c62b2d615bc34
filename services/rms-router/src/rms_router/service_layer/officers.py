"""The officers' side of the work (RMS-QUEUE-1): claim the next BE of a queue, record
an assessment, an examination or a partner agency's NOC, or give a claim back.

Each command runs in one unit of work: the task's change, the event for the
other services, the claim's timer and the audit entry commit together. The
officer is the caller's principal: its subject is the officer id, its scope
names the customs location (`location=INNSA1`) and the Faceless Assessment
Groups it sits in (`groups=5C,5M`); an officer works only the queues of its
location and groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clearance_domain import Reason
from clearance_runtime.access import Principal

from rms_router.domain import audit
from rms_router.domain.audit import AuditEntry
from rms_router.domain.work import (
    ASSESSMENT,
    CLAIMED,
    EXAMINATION,
    PGA_NOC,
    SCANNING,
    SHIPPING_BILL,
    AssessmentResult,
    ExaminationResult,
    PgaNocResult,
    Task,
)
from rms_router.service_layer.handlers import (
    ASSESSMENT_COMPLETED,
    CLAIM_EXPIRED,
    EXAMINATION_COMPLETED,
    PGA_NOC_RECORDED,
    claim_expiry,
    claim_timer_key,
)
from rms_router.service_layer.unit_of_work import RmsUnitOfWork, TaskDetail


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


class Conflict(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Officer:
    officer_id: str
    location: str
    groups: frozenset[str]

    @classmethod
    def of(cls, principal: Principal) -> Officer:
        location = principal.scope.get("location")
        if not location:
            raise Forbidden("an officer's scope names the customs location (location=...)")
        groups = principal.scope.get("groups", "")
        return cls(
            principal.subject, location, frozenset(g.strip() for g in groups.split(",") if g)
        )

    def may_work(self, queue: str) -> bool:
        """Its location's queue, and the queues of its Faceless Assessment Groups."""
        kind, _, name = queue.partition(":")
        if kind == "location":
            return name == self.location
        return name in self.groups

    def check(self, queue: str) -> None:
        if not self.may_work(queue):
            raise Forbidden(f"officer {self.officer_id} does not work the queue {queue}")

    def to_data(self) -> dict[str, str]:
        return {"officer_id": self.officer_id, "location": self.location}


async def claim_next(
    uow: RmsUnitOfWork, officer: Officer, queue: str, kind: str | None, ttl_s: float
) -> TaskDetail | None:
    """RMS-QUEUE-1: the first open task of the queue, claimed until `ttl_s` from now."""
    officer.check(queue)
    now = uow.clock.now()
    expires_at = claim_expiry(now, ttl_s)
    detail = await uow.tasks.claim_next(queue, kind, officer.officer_id, now, expires_at)
    if detail is None:
        return None
    task = detail.task
    uow.schedule(
        CLAIM_EXPIRED,
        claim_timer_key(task),
        expires_at,
        {"task_id": task.task_id, "claim_no": task.claim_no},
    )
    uow.audit.append(
        AuditEntry(
            task.ref,
            now,
            officer.officer_id,
            audit.CLAIMED,
            (),
            {
                "task_id": task.task_id,
                "kind": task.kind,
                "queue": queue,
                "claim_no": task.claim_no,
                "expires_at": expires_at.isoformat(),
            },
            document=task.document,
        )
    )
    return detail


async def read_task(uow: RmsUnitOfWork, officer: Officer, task_id: int) -> TaskDetail:
    detail = await uow.tasks.get(task_id)
    if detail is None:
        raise NotFound(f"no task {task_id}")
    officer.check(detail.task.queue)
    return detail


async def release(uow: RmsUnitOfWork, officer: Officer, task_id: int) -> None:
    """The officer gives the BE back: it returns to its place in the queue."""
    task = await _claimed_by(uow, officer, task_id, kinds=None)
    await uow.tasks.release(task.task_id, task.claim_no)
    uow.cancel(CLAIM_EXPIRED, claim_timer_key(task))
    uow.audit.append(
        AuditEntry(
            task.ref,
            uow.clock.now(),
            officer.officer_id,
            audit.CLAIM_RELEASED,
            (),
            {"task_id": task.task_id, "claim_no": task.claim_no},
            document=task.document,
        )
    )


async def record_assessment(
    uow: RmsUnitOfWork, officer: Officer, task_id: int, body: Mapping[str, Any]
) -> dict[str, Any]:
    """INTAKE-SA-1: confirm the self-assessment, or re-assess the duty with reasons."""
    task, detail = await _claimed_detail(uow, officer, task_id, kinds=(ASSESSMENT,))
    self_assessed = Decimal(str(detail.summary.get("self_assessed_duty", "0")))
    result = AssessmentResult.from_data(body, self_assessed)
    now = uow.clock.now()
    if result.outcome == "confirmed":
        reasons = [Reason.of("INTAKE-SA-1", "the self-assessment is confirmed")]
    else:
        reasons = [Reason.of("INTAKE-SA-1", f"re-assessed: {text}") for text in result.reasons]
    data = {
        "bill_of_entry_ref": task.ref.to_data(),
        "outcome": result.outcome,
        "assessed_duty": float(result.assessed_duty),
        "self_assessed_duty": float(self_assessed),
        "assessment_group": detail.summary.get("assessment_group")
        if task.queue.startswith("group:")
        else None,
        "reasons": [reason.to_data() for reason in reasons],
        "officer": officer.to_data(),
        "assessed_at": now.isoformat(),
    }
    await _complete(uow, officer, task, data, ASSESSMENT_COMPLETED, audit.ASSESSMENT_RECORDED)
    return data


async def record_examination(
    uow: RmsUnitOfWork, officer: Officer, task_id: int, body: Mapping[str, Any]
) -> dict[str, Any]:
    """RMS-1, RMS-SAMPLE-1: what the examination (or scan) found, and the samples drawn.
    The examination of an export under a Shipping Bill (SEAL-TAMPER-1) draws no samples
    here: there are no items of it to name."""
    task, detail = await _claimed_detail(uow, officer, task_id, kinds=(EXAMINATION, SCANNING))
    items = [int(item["sl_no"]) for item in detail.summary.get("items", [])]
    result = ExaminationResult.from_data(body, items)
    if task.kind == SCANNING and result.samples:
        raise Conflict("a scan draws no samples")
    now = uow.clock.now()
    cite = "SEAL-TAMPER-1" if task.document == SHIPPING_BILL else "RMS-1"
    findings = [Reason.of(cite, text) for text in result.findings]
    if result.samples:
        findings.append(
            Reason.of(
                "RMS-SAMPLE-1",
                f"samples drawn of items {', '.join(map(str, result.samples))} for testing",
            )
        )
    data = {
        **_about(task),
        "outcome": result.outcome,
        "method": "scanning" if task.kind == SCANNING else "physical",
        "findings": [reason.to_data() for reason in findings],
        "samples": list(result.samples),
        "officer": officer.to_data(),
        "examined_at": now.isoformat(),
    }
    await _complete(uow, officer, task, data, EXAMINATION_COMPLETED, audit.EXAMINATION_RECORDED)
    return data


async def record_pga_noc(
    uow: RmsUnitOfWork, officer: Officer, task_id: int, body: Mapping[str, Any]
) -> dict[str, Any]:
    """RMS-3: a partner agency's NOC, or its refusal."""
    task = await _claimed_by(uow, officer, task_id, kinds=(PGA_NOC,))
    result = PgaNocResult.from_data(body, task.agency)
    now = uow.clock.now()
    data = {
        "bill_of_entry_ref": task.ref.to_data(),
        "agency": result.agency,
        "outcome": result.outcome,
        "reference": result.reference,
        "officer": officer.to_data(),
        "recorded_at": now.isoformat(),
    }
    await _complete(uow, officer, task, data, PGA_NOC_RECORDED, audit.PGA_NOC_RECORDED)
    return data


def _about(task: Task) -> dict[str, Any]:
    """`bill_of_entry_ref`; for the examination of an export, `shipping_bill_ref` instead."""
    if task.document == SHIPPING_BILL:
        return {"shipping_bill_ref": task.reference_data()["shipping_bill_ref"]}
    return {"bill_of_entry_ref": task.ref.to_data()}


async def _claimed_detail(
    uow: RmsUnitOfWork, officer: Officer, task_id: int, kinds: tuple[str, ...] | None
) -> tuple[Task, TaskDetail]:
    detail = await read_task(uow, officer, task_id)
    task = detail.task
    if kinds is not None and task.kind not in kinds:
        raise Conflict(f"task {task_id} is a {task.kind} task")
    if task.state != CLAIMED or task.claimed_by != officer.officer_id:
        raise Conflict(f"task {task_id} is not claimed by {officer.officer_id}: claim it first")
    if detail.claim_expires_at is not None and detail.claim_expires_at <= uow.clock.now():
        raise Conflict(f"the claim on task {task_id} expired: claim the next BE again")
    return task, detail


async def _claimed_by(
    uow: RmsUnitOfWork, officer: Officer, task_id: int, kinds: tuple[str, ...] | None
) -> Task:
    task, _ = await _claimed_detail(uow, officer, task_id, kinds)
    return task


async def _complete(
    uow: RmsUnitOfWork,
    officer: Officer,
    task: Task,
    data: dict[str, Any],
    event_type: str,
    action: str,
) -> None:
    now = uow.clock.now()
    await uow.tasks.complete(task.task_id, data, now)
    uow.cancel(CLAIM_EXPIRED, claim_timer_key(task))
    if task.document != SHIPPING_BILL:
        # The examination of an export (SEAL-TAMPER-1) is no event: no service here
        # follows a Shipping Bill; the task and the audit trail keep its result.
        uow.publish(event_type, task.ref.key, data)
    reasons = tuple(
        Reason.from_data(reason) for reason in data.get("reasons", data.get("findings", []))
    )
    uow.audit.append(
        AuditEntry(
            task.ref,
            now,
            officer.officer_id,
            action,
            reasons,
            {"task_id": task.task_id, "kind": task.kind, "result": data},
            document=task.document,
        )
    )
