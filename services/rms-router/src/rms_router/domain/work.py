"""The officers' work on a BE (pure): tasks in FIFO queues and the results officers record.

RMS-QUEUE-1: BEs presented for examination queue before the officer first in,
first out; facilitated BEs need no officer here. Each selection of a decision
becomes a task in a queue:

- assessment: the queue of its Faceless Assessment Group (RMS-FAG-1), or of the
  port when the table lists no group for the BE's heading;
- examination, scanning and a partner agency's NOC (one task per agency): the
  queue of the customs location (the BE's port).

A task is about a BE, except the examination of an export whose RFID seal was
found tampered at the customs station (SEAL-TAMPER-1): warehouse-seal names
only its Shipping Bill, so that task is about the Shipping Bill (in the queue
of its custom house; no decision, no other task, no event: nothing else on the
platform follows a Shipping Bill).

Examination follows assessment (seed 002: "after assessment by the appraising
group ... presented for examination"), except on First Check (RMS-2), where
assessment waits for the examination. A task waiting for another opens, at the
back of its queue, when the other is done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from clearance_domain import BillOfEntryRef

from rms_router.domain.decision import RmsDecision

ASSESSMENT, EXAMINATION, SCANNING, PGA_NOC = "assessment", "examination", "scanning", "pga_noc"
KINDS = (ASSESSMENT, EXAMINATION, SCANNING, PGA_NOC)
WAITING, OPEN, CLAIMED, DONE, WITHDRAWN = "waiting", "open", "claimed", "done", "withdrawn"
UNFINISHED = (WAITING, OPEN, CLAIMED)
#: What a task is about (SEAL-TAMPER-1 examines the export under a Shipping Bill).
BILL_OF_ENTRY, SHIPPING_BILL = "bill_of_entry", "shipping_bill"


def location_queue(port_code: str) -> str:
    return f"location:{port_code}"


def group_queue(group: str) -> str:
    return f"group:{group}"


@dataclass(frozen=True, slots=True)
class Task:
    """A task as stored (what planning and completion need of it)."""

    task_id: int
    ref: BillOfEntryRef
    kind: str
    queue: str
    state: str
    agency: str | None = None
    after: str | None = None
    claimed_by: str | None = None
    claim_no: int = 0
    #: For a Shipping Bill, `ref` holds its custom house, number and date (version 1).
    document: str = BILL_OF_ENTRY

    @property
    def unfinished(self) -> bool:
        return self.state in UNFINISHED

    def reference_data(self) -> dict[str, Any]:
        """`bill_of_entry_ref` with its version, or `shipping_bill_ref` (the other null)."""
        return document_reference(self.document, self.ref)


def shipping_bill(data: Mapping[str, Any]) -> BillOfEntryRef:
    """A Shipping Bill's identity (`shipping_bill_ref`: port_code, sb_no, sb_date) in the
    shape of a document reference; a Shipping Bill has one version here."""
    return BillOfEntryRef.from_data(
        {"port_code": data["port_code"], "be_no": data["sb_no"], "be_date": data["sb_date"]}
    )


def document_reference(document: str, ref: BillOfEntryRef) -> dict[str, Any]:
    if document == SHIPPING_BILL:
        sb = {"port_code": ref.port_code, "sb_no": ref.be_no, "sb_date": ref.be_date.isoformat()}
        return {"bill_of_entry_ref": None, "shipping_bill_ref": sb}
    return {"bill_of_entry_ref": ref.to_data(), "shipping_bill_ref": None}


@dataclass(frozen=True, slots=True)
class NewTask:
    kind: str
    queue: str
    state: str  # open | waiting
    agency: str | None = None
    after: str | None = None
    instructions: str | None = None
    reopened: bool = False  # assessment again after an amendment or a discrepancy


@dataclass
class Plan:
    """What a decision on a version does to the BE's tasks."""

    new: list[NewTask] = field(default_factory=list)
    carried: list[Task] = field(default_factory=list)  # unfinished, now for the new version
    withdrawn: list[Task] = field(default_factory=list)  # unfinished, no longer selected

    @property
    def empty(self) -> bool:
        return not (self.new or self.carried or self.withdrawn)


def _wanted(decision: RmsDecision) -> list[tuple[str, str | None]]:
    selections = set(decision.selections)
    wanted: list[tuple[str, str | None]] = []
    if ASSESSMENT in selections:
        wanted.append((ASSESSMENT, None))
    if EXAMINATION in selections:
        wanted.append((EXAMINATION, None))
    if SCANNING in selections:
        wanted.append((SCANNING, None))
    if PGA_NOC in selections:
        wanted.extend((PGA_NOC, agency) for agency in decision.partner_agencies or (None,))
    return wanted


def plan_work(
    ref: BillOfEntryRef,
    decision: RmsDecision,
    existing: Sequence[Task] = (),
    *,
    assessment_invalidated: bool = False,
) -> Plan:
    """The tasks a decision on `ref` asks for, given the BE's tasks from earlier
    versions: unfinished ones still selected are carried over (keeping their
    place in the queue), ones no longer selected are withdrawn, finished ones
    are not done again, except an assessment the amendment invalidated
    (INTAKE-AMEND-1)."""
    plan = Plan()
    wanted = _wanted(decision)
    first_check = "first_check" in decision.selections
    done_kinds = {t.kind for t in existing if t.state == DONE}
    if assessment_invalidated:
        done_kinds.discard(ASSESSMENT)
    kinds_wanted = {kind for kind, _ in wanted}
    for task in existing:
        if not task.unfinished:
            continue
        if (task.kind, task.agency) in wanted:
            plan.carried.append(task)
        else:
            plan.withdrawn.append(task)
    carried = {(t.kind, t.agency) for t in plan.carried}
    for kind, agency in wanted:
        if (kind, agency) in carried:
            continue
        done_before = any(
            t.state == DONE and t.kind == kind and t.agency == agency for t in existing
        )
        if done_before and not (kind == ASSESSMENT and assessment_invalidated):
            continue
        after = _after(kind, first_check, kinds_wanted, done_kinds)
        queue = (
            group_queue(decision.assessment_group)
            if kind == ASSESSMENT and decision.assessment_group
            else location_queue(ref.port_code)
        )
        instructions = (
            decision.examination_instructions if kind in (EXAMINATION, SCANNING) else None
        )
        if kind == ASSESSMENT and done_before:
            instructions = "Re-assess: the amendment invalidated the earlier assessment"
        plan.new.append(
            NewTask(
                kind=kind,
                queue=queue,
                state=WAITING if after else OPEN,
                agency=agency,
                after=after,
                instructions=instructions,
                reopened=kind == ASSESSMENT and done_before,
            )
        )
    return plan


def _after(kind: str, first_check: bool, wanted: set[str], done: set[str]) -> str | None:
    """The kind of task this one waits for, if it waits."""
    if kind == ASSESSMENT and first_check and EXAMINATION not in done:
        return EXAMINATION
    if kind == EXAMINATION and not first_check and ASSESSMENT in wanted:
        return ASSESSMENT if ASSESSMENT not in done else None
    return None


class InvalidResult(ValueError):
    """An officer's result that cannot be recorded as given; the message says why."""


@dataclass(frozen=True, slots=True)
class AssessmentResult:
    """INTAKE-SA-1: the officer confirms the self-assessment or re-assesses the duty."""

    outcome: str  # confirmed | reassessed
    assessed_duty: Decimal
    reasons: tuple[str, ...]

    @classmethod
    def from_data(cls, data: Mapping[str, Any], self_assessed: Decimal) -> AssessmentResult:
        outcome = data.get("outcome")
        reasons = tuple(data.get("reasons") or ())
        given = data.get("assessed_duty")
        self_assessed = self_assessed.quantize(_PAISA)
        duty = self_assessed if given is None else _rupees(given)
        if outcome == "confirmed":
            if duty != self_assessed:
                raise InvalidResult(
                    f"a confirmed self-assessment keeps the duty of Rs {self_assessed};"
                    f" Rs {duty} is a re-assessment"
                )
        elif outcome == "reassessed":
            if given is None or not reasons:
                raise InvalidResult("a re-assessment gives the duty assessed and its reasons")
        else:
            raise InvalidResult("outcome: confirmed or reassessed")
        return cls(str(outcome), duty, reasons)


@dataclass(frozen=True, slots=True)
class ExaminationResult:
    """RMS-1, RMS-SAMPLE-1: what the examination found, and the samples drawn."""

    outcome: str  # no_discrepancy | discrepancy | samples_drawn
    findings: tuple[str, ...]
    samples: tuple[int, ...]

    @classmethod
    def from_data(cls, data: Mapping[str, Any], items: Sequence[int]) -> ExaminationResult:
        outcome = data.get("outcome")
        findings = tuple(data.get("findings") or ())
        samples = tuple(int(n) for n in data.get("samples") or ())
        if outcome == "discrepancy" and not findings:
            raise InvalidResult("a discrepancy is recorded with its findings")
        if outcome == "samples_drawn" and not samples:
            raise InvalidResult("samples drawn: name the items sampled")
        if outcome not in ("no_discrepancy", "discrepancy", "samples_drawn"):
            raise InvalidResult("outcome: no_discrepancy, discrepancy or samples_drawn")
        unknown = sorted(set(samples) - set(items))
        if unknown:
            raise InvalidResult(f"the BE has no items {unknown}")
        return cls(str(outcome), findings, samples)


@dataclass(frozen=True, slots=True)
class PgaNocResult:
    """RMS-3: a Partner Government Agency's NOC, as the officer recorded it."""

    agency: str
    outcome: str  # granted | refused
    reference: str

    @classmethod
    def from_data(cls, data: Mapping[str, Any], agency: str | None) -> PgaNocResult:
        given = data.get("agency") or agency
        if not given:
            raise InvalidResult("agency: which agency's NOC")
        if agency and given != agency:
            raise InvalidResult(f"this task is for the NOC of {agency}, not {given}")
        if data.get("outcome") not in ("granted", "refused"):
            raise InvalidResult("outcome: granted or refused")
        reference = str(data.get("reference") or "").strip()
        if not reference:
            raise InvalidResult("reference: the agency's NOC or refusal number")
        return cls(str(given), str(data["outcome"]), reference)


def _rupees(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise InvalidResult(f"{value!r} is not an amount of rupees") from error
    if amount < 0:
        raise InvalidResult("duty is not negative")
    return amount.quantize(_PAISA)


_PAISA = Decimal("0.01")


def after_result(
    done_kind: str, outcome: str, tasks: Sequence[Task], assessment_queue: str
) -> tuple[list[Task], NewTask | None]:
    """What a recorded result does to the BE's other tasks: the tasks waiting for
    this kind open once none of it is left (RMS-2: assessment after First Check;
    examination after assessment), and an examination that found a discrepancy
    re-opens assessment unless one is still to come (RMS-1, INTAKE-SA-1)."""
    left_of_kind = any(t.kind == done_kind and t.unfinished for t in tasks)
    to_open = (
        [] if left_of_kind else [t for t in tasks if t.state == WAITING and t.after == done_kind]
    )
    reassess = None
    assessment_to_come = any(t.kind == ASSESSMENT and t.unfinished for t in tasks)
    if done_kind in (EXAMINATION, SCANNING) and outcome == "discrepancy" and not assessment_to_come:
        reassess = NewTask(
            kind=ASSESSMENT,
            queue=assessment_queue,
            state=OPEN,
            instructions="Re-assess: the examination found a discrepancy (see its findings)",
            reopened=True,
        )
    return to_open, reassess
