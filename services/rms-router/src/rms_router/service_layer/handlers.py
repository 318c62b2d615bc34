"""What rms-router does when facts about a BE arrive, and when an officer's result comes back.

Per BE version it joins the registered BE (be-intake: AEO certificate,
amendment) with the BIS verdict (bis-verifier, carrying the BE) and decides
once both are in, under the rule set in force (RMS-1..3, RMS-FAG-1,
RMS-LANES-1); the decision opens the officers' tasks (RMS-QUEUE-1). An
invalidated BE leaves the queues (INTAKE-PRIOR-1). A seal tampered at the customs
station on export forces examination (SEAL-TAMPER-1): warehouse-seal names the
Shipping Bill of the export, whose examination task joins the queue of its
custom house (a BE named instead is examined through its decision). Officers'
results, rms-router's own events, keep each importer's record and open the
tasks that waited for them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from clearance_contracts import (
    BILL_OF_ENTRY_REGISTERED,
    BIS_VERIFICATION_COMPLETED,
    RMS_DECISION_MADE,
)
from clearance_domain import BillOfEntryRef, Identity, PolicyRef, Reason
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.policies import PolicyBook
from clearance_runtime.timers import Timer, TimerHandler
from clearance_runtime.tracing import continuing
from clearance_runtime.unit_of_work import Collected

from rms_router.domain import audit
from rms_router.domain.audit import AuditEntry
from rms_router.domain.bill import REGISTERED, VERIFIED, BillFile
from rms_router.domain.decision import RmsDecision, decide
from rms_router.domain.facts import (
    History,
    RiskFacts,
    registration_part,
    verification_part,
)
from rms_router.domain.rule_set import RULE_SET, RuleSet
from rms_router.domain.work import (
    ASSESSMENT,
    CLAIMED,
    DONE,
    EXAMINATION,
    OPEN,
    PGA_NOC,
    SCANNING,
    SHIPPING_BILL,
    NewTask,
    Task,
    after_result,
    group_queue,
    location_queue,
    plan_work,
    shipping_bill,
)
from rms_router.service_layer.unit_of_work import RmsUnitOfWork

log = logging.getLogger(__name__)

BILL_OF_ENTRY_INVALIDATED = "clearance.bill-of-entry.invalidated.v1"
SEAL_TRIP_ALERT_RAISED = "clearance.seal-trip.alert-raised.v1"
ASSESSMENT_COMPLETED = "clearance.assessment.completed.v1"
EXAMINATION_COMPLETED = "clearance.examination.completed.v1"
PGA_NOC_RECORDED = "clearance.pga-noc.recorded.v1"

#: Timer kind: a claim not completed in time goes back to its queue.
CLAIM_EXPIRED = "rms-router.claim-expired"

_FILES = "rms-router.files"
_RESULTS = "rms-router.results"
_EXPORTS = "rms-router.exports"


def claim_timer_key(task: Task) -> str:
    """The timer of a claim: the BE key (for traces) and the task."""
    return f"{task.ref.key}#task-{task.task_id}"


def handlers(policies: PolicyBook) -> dict[str, Handler]:
    """The handler table; `policies` gives the rule set in force."""

    async def update_files(uow: RmsUnitOfWork, collected: Collected) -> None:
        await _update_files(uow, collected, policies)

    async def examine_exports(uow: RmsUnitOfWork, collected: Collected) -> None:
        await _examine_exports(uow, collected, policies)

    def gather(kind: str) -> Handler:
        async def handle(event: CloudEvent, uow: RmsUnitOfWork) -> None:
            data = event.data
            ref_data = data.get("bill_of_entry_ref")
            sb_data = data.get("shipping_bill_ref")
            if kind == "tampered" and data["alert"] != "tamper_at_export":
                # Of the seal alerts only a tamper at export concerns rms-router (SEAL-TAMPER-1).
                DECISIONS.labels("rms-router", "seal-alert", "not_for_rms").inc()
            elif ref_data is not None:
                ref = BillOfEntryRef.from_data(ref_data)
                uow.collect(_FILES, (kind, ref, data), update_files)
            elif kind == "tampered" and sb_data is not None:
                uow.collect(_EXPORTS, (shipping_bill(sb_data), data), examine_exports)
            else:
                DECISIONS.labels("rms-router", "seal-alert", "not_for_rms").inc()

        handle.__doc__ = f"Gather a {kind} fact for this batch's one update of the BE files."
        return handle

    async def on_result(event: CloudEvent, uow: RmsUnitOfWork) -> None:
        """The officers' results: importers' records, and the tasks waiting for them."""
        ref = BillOfEntryRef.from_data(event.data["bill_of_entry_ref"])
        uow.collect(_RESULTS, (event.type, ref, event.data), _apply_results)

    return {
        BILL_OF_ENTRY_REGISTERED: gather("registered"),
        BIS_VERIFICATION_COMPLETED: gather("verified"),
        BILL_OF_ENTRY_INVALIDATED: gather("invalidated"),
        SEAL_TRIP_ALERT_RAISED: gather("tampered"),
        ASSESSMENT_COMPLETED: on_result,
        EXAMINATION_COMPLETED: on_result,
        PGA_NOC_RECORDED: on_result,
    }


async def _update_files(uow: RmsUnitOfWork, collected: Collected, policies: PolicyBook) -> None:
    """One read and one write of the BE files for the whole batch; decide every version
    whose registration and BIS verdict are both in."""
    now = uow.clock.now()
    identities = list(dict.fromkeys(ref.identity for (_, ref, _), _ in collected))
    files = await uow.bills.files(identities)
    carriers: dict[Identity, Mapping[str, str]] = {}
    invalidated: list[tuple[BillOfEntryRef, Mapping[str, Any]]] = []
    tampered_late: list[tuple[BillOfEntryRef, Mapping[str, Any]]] = []
    for (kind, ref, data), carrier in collected:
        file = files.setdefault(ref.identity, BillFile(ref.identity))
        carriers[ref.identity] = carrier
        if kind == "registered":
            fresh = file.learn(ref.version, REGISTERED, {REGISTERED: registration_part(data)})
        elif kind == "verified":
            part = {VERIFIED: verification_part(data), "bill_of_entry": data["bill_of_entry"]}
            fresh = file.learn(ref.version, VERIFIED, part)
        elif kind == "invalidated":
            fresh = file.invalidated_at is None
            if fresh:
                file.invalidate(now)
                invalidated.append((ref, data))
        else:  # a seal tampered at export (SEAL-TAMPER-1)
            fresh = file.tampered_at_export is None
            file.tampered_at_export = file.tampered_at_export or dict(data)
            if fresh and file.decided_version and file.invalidated_at is None:
                tampered_late.append((file.ref(file.decided_version), data))
        if not fresh:
            DECISIONS.labels("rms-router", "rms", "stale").inc()

    ready = [(file, version) for file in files.values() for version in file.ready()]
    histories = await uow.importers.histories(
        sorted({str(file.pending[v]["bill_of_entry"]["iec"]) for file, v in ready})
    )
    with_tasks = [file.identity for file, _ in ready if file.decided_version] + [
        ref.identity for ref, _ in invalidated + tampered_late
    ]
    tasks = await uow.tasks.of_bills(list(dict.fromkeys(with_tasks))) if with_tasks else {}

    policy = policies.in_force(RULE_SET, now) if ready or tampered_late else None
    for file, version in ready:
        assert policy is not None
        ref = file.ref(version)
        parts = file.pending[version]
        facts = RiskFacts.of(
            ref,
            parts["bill_of_entry"],
            parts[REGISTERED],
            parts[VERIFIED],
            histories.get(str(parts["bill_of_entry"]["iec"]), History()),
            tampered_at_export=file.tampered_at_export is not None,
        )
        decision = decide(facts, policy.body, PolicyRef(policy.policy_id, policy.version))
        file.iec = facts.iec
        file.decided(version, decision.assessment_group)
        with continuing(carriers.get(file.identity)):
            _record_decision(uow, ref, decision, facts, tasks.get(file.identity, []), now)
    for ref, data in invalidated:
        with continuing(carriers.get(ref.identity)):
            _withdraw_all(uow, ref, tasks.get(ref.identity, []), data, now)
    for ref, data in tampered_late:
        assert policy is not None
        with continuing(carriers.get(ref.identity)):
            _examine_tampered(uow, files[ref.identity], ref, policy.body, tasks, data, now)
    for file in files.values():
        uow.bills.save(file)


def _record_decision(
    uow: RmsUnitOfWork,
    ref: BillOfEntryRef,
    decision: RmsDecision,
    facts: RiskFacts,
    existing: list[Task],
    now: datetime,
) -> None:
    uow.decisions.add(ref, decision, facts, now)
    uow.publish(RMS_DECISION_MADE, ref.key, decision.event_data(ref, now.isoformat()))
    DECISIONS.labels("rms-router", "rms", decision.outcome).inc()
    uow.audit.append(
        AuditEntry(
            ref,
            now,
            audit.ENGINE,
            audit.DECIDED,
            decision.reasons,
            {
                "outcome": decision.outcome,
                "selections": list(decision.selections),
                "rule_set": decision.rule_set.to_data(),
                "fired_rules": list(decision.fired_rules),
                "assessment_group": decision.assessment_group,
                "interdiction": (
                    decision.interdiction.to_data() if decision.interdiction else None
                ),
            },
        )
    )
    plan = plan_work(ref, decision, existing, assessment_invalidated=facts.assessment_invalidated)
    summary = task_summary(facts, decision)
    for new in plan.new:
        uow.tasks.add(ref, new, summary, now)
        action = audit.TASK_REOPENED if new.reopened else audit.TASK_OPENED
        uow.audit.append(AuditEntry(ref, now, audit.ENGINE, action, (), _new_task_detail(new)))
    for task in plan.carried:
        if task.state == CLAIMED:
            uow.cancel(CLAIM_EXPIRED, claim_timer_key(task))
        uow.tasks.move_to_version(task, ref.version)
        uow.audit.append(
            AuditEntry(
                ref,
                now,
                audit.ENGINE,
                audit.TASK_CARRIED,
                (),
                {"task_id": task.task_id, "kind": task.kind, "from_version": task.ref.version},
            )
        )
    for task in plan.withdrawn:
        _withdraw(uow, ref, task, now, "no longer selected on this version")


def _withdraw_all(
    uow: RmsUnitOfWork,
    ref: BillOfEntryRef,
    tasks: list[Task],
    data: Mapping[str, Any],
    now: datetime,
) -> None:
    """The BE was invalidated (e.g. INTAKE-PRIOR-1): it leaves every queue."""
    reasons = tuple(Reason.from_data(reason) for reason in data["reasons"])
    uow.audit.append(AuditEntry(ref, now, "be-intake", audit.INVALIDATED, reasons, {}))
    for task in tasks:
        if task.unfinished:
            _withdraw(uow, task.ref, task, now, "the BE was invalidated")


def _withdraw(uow: RmsUnitOfWork, ref: BillOfEntryRef, task: Task, now: datetime, why: str) -> None:
    if task.state == CLAIMED:
        uow.cancel(CLAIM_EXPIRED, claim_timer_key(task))
    uow.tasks.withdraw(task, now)
    uow.audit.append(
        AuditEntry(
            ref,
            now,
            audit.ENGINE,
            audit.TASK_WITHDRAWN,
            (),
            {"task_id": task.task_id, "kind": task.kind, "why": why},
        )
    )


def _examine_tampered(
    uow: RmsUnitOfWork,
    file: BillFile,
    ref: BillOfEntryRef,
    rule_set: RuleSet,
    tasks: Mapping[Identity, list[Task]],
    alert: Mapping[str, Any],
    now: datetime,
) -> None:
    """SEAL-TAMPER-1 after the decision: an examination task, unless one is still to come."""
    forced = rule_set.forced["seal_tampered_at_export"]
    reason = Reason.of(forced.then.cite, f"{forced.then.message} (seal {alert['seal_no']})")
    uow.audit.append(
        AuditEntry(ref, now, "warehouse-seal", audit.SEAL_TAMPERED, (reason,), dict(alert))
    )
    existing = tasks.get(ref.identity, [])
    if any(t.kind == EXAMINATION and t.unfinished for t in existing):
        return
    new = NewTask(
        kind=EXAMINATION,
        queue=location_queue(ref.port_code),
        state=OPEN,
        instructions=forced.then.instructions,
    )
    summary = {"forced": forced.id, "seal_no": alert["seal_no"], "iec": file.iec}
    uow.tasks.add(ref, new, summary, now)
    uow.audit.append(
        AuditEntry(ref, now, audit.ENGINE, audit.TASK_OPENED, (reason,), _new_task_detail(new))
    )


async def _examine_exports(uow: RmsUnitOfWork, collected: Collected, policies: PolicyBook) -> None:
    """SEAL-TAMPER-1: the export's seal was tampered at the customs station; warehouse-seal
    names its Shipping Bill. An examination task for the Shipping Bill joins the queue of
    its custom house, unless one is still to come; the alert is on its audit trail."""
    now = uow.clock.now()
    policy = policies.in_force(RULE_SET, now)
    forced = policy.body.forced["seal_tampered_at_export"]
    cited = PolicyRef(policy.policy_id, policy.version)
    identities = list(dict.fromkeys(ref.identity for (ref, _), _ in collected))
    tasks = await uow.tasks.of_bills(identities, SHIPPING_BILL)
    to_come = {
        identity
        for identity, found in tasks.items()
        if any(t.kind == EXAMINATION and t.unfinished for t in found)
    }
    for (ref, alert), carrier in collected:
        reason = Reason.of(
            forced.then.cite,
            f"{forced.then.message} (seal {alert['seal_no']} read at {alert['location']},"
            f" export under Shipping Bill {ref.key})",
            policy=cited,
        )
        with continuing(carrier):
            uow.audit.append(
                AuditEntry(
                    ref,
                    now,
                    "warehouse-seal",
                    audit.SEAL_TAMPERED,
                    (reason,),
                    dict(alert),
                    document=SHIPPING_BILL,
                )
            )
            if ref.identity in to_come:
                DECISIONS.labels("rms-router", "export-examination", "already_to_come").inc()
                continue
            to_come.add(ref.identity)
            new = NewTask(
                kind=EXAMINATION,
                queue=location_queue(ref.port_code),
                state=OPEN,
                instructions=forced.then.instructions,
            )
            summary = {
                "forced": forced.id,
                "seal_no": alert["seal_no"],
                "location": alert["location"],
                "rule_set": cited.to_data(),
                "reasons": [reason.to_data()],
            }
            uow.tasks.add(ref, new, summary, now, SHIPPING_BILL)
            uow.audit.append(
                AuditEntry(
                    ref,
                    now,
                    audit.ENGINE,
                    audit.TASK_OPENED,
                    (reason,),
                    _new_task_detail(new),
                    document=SHIPPING_BILL,
                )
            )
            DECISIONS.labels("rms-router", "export-examination", "opened").inc()


def _new_task_detail(task: NewTask) -> dict[str, Any]:
    return {
        "kind": task.kind,
        "queue": task.queue,
        "state": task.state,
        "agency": task.agency,
        "after": task.after,
        "instructions": task.instructions,
    }


def task_summary(facts: RiskFacts, decision: RmsDecision) -> dict[str, Any]:
    """What the officer sees of the BE with a task: the declaration's risk facts and
    why it was selected."""
    return {
        "iec": facts.iec,
        "aeo_status": facts.aeo_status,
        "self_assessed_duty": float(facts.total_duty),
        "assessable_value": float(facts.assessable_value),
        "items": [{**item.to_data(), "value": float(item.value)} for item in facts.items],
        "assessment_group": decision.assessment_group,
        "selections": list(decision.selections),
        "fired_rules": list(decision.fired_rules),
        "rule_set": decision.rule_set.to_data(),
        "reasons": [reason.to_data() for reason in decision.reasons],
    }


async def _apply_results(uow: RmsUnitOfWork, collected: Collected) -> None:
    """For each result of a task of rms-router's queues: the importer's record, then the
    tasks it unblocks or re-opens."""
    identities = list(dict.fromkeys(ref.identity for (_, ref, _), _ in collected))
    tasks = await uow.tasks.of_bills(identities)
    files = await uow.bills.files(identities)
    now = uow.clock.now()
    for (event_type, ref, data), carrier in collected:
        done_kind, outcome, change = _result_of(event_type, data)
        current = tasks.get(ref.identity, [])
        if not any(t.kind == done_kind and t.state == DONE for t in current):
            # Not a result of rms-router's own officers' tasks: it counts for nothing here.
            DECISIONS.labels("rms-router", "result", "not_ours").inc()
            continue
        uow.importers.count(ref.identity, change)
        file = files.get(ref.identity)
        group = file.assessment_group if file else None
        queue = group_queue(group) if group else location_queue(ref.port_code)
        to_open, reassess = after_result(done_kind, outcome, current, queue)
        with continuing(carrier):
            for task in to_open:
                uow.tasks.open(task, now)
                detail = {"task_id": task.task_id, "kind": task.kind, "after": done_kind}
                uow.audit.append(
                    AuditEntry(task.ref, now, audit.ENGINE, audit.TASK_OPENED, (), detail)
                )
            opened = {task.task_id for task in to_open}
            current = [replace(t, state=OPEN) if t.task_id in opened else t for t in current]
            if reassess is not None:
                source = next(t for t in current if t.kind in (EXAMINATION, SCANNING))
                reason = Reason.of("INTAKE-SA-1", "the examination found a discrepancy: re-assess")
                uow.tasks.add_like(source, reassess, now)
                uow.audit.append(
                    AuditEntry(
                        source.ref,
                        now,
                        audit.ENGINE,
                        audit.TASK_REOPENED,
                        (reason,),
                        _new_task_detail(reassess),
                    )
                )
                # Within this batch the re-opened assessment counts as to come.
                current = [*current, replace(source, task_id=-1, kind=ASSESSMENT, state=OPEN)]
        tasks[ref.identity] = current


def _result_of(event_type: str, data: Mapping[str, Any]) -> tuple[str, str, History]:
    outcome = str(data["outcome"])
    if event_type == EXAMINATION_COMPLETED:
        kind = SCANNING if data.get("method") == "scanning" else EXAMINATION
        return kind, outcome, History(examinations=1, discrepancies=int(outcome == "discrepancy"))
    if event_type == ASSESSMENT_COMPLETED:
        return ASSESSMENT, outcome, History(reassessments=int(outcome == "reassessed"))
    return PGA_NOC, outcome, History(refused_nocs=int(outcome == "refused"))


def timer_handlers() -> dict[str, TimerHandler]:
    async def on_claim_expired(timer: Timer, uow: RmsUnitOfWork) -> None:
        """A claim not completed in time: the task goes back to its place in its queue."""
        task_id, claim_no = int(timer.payload["task_id"]), int(timer.payload["claim_no"])
        detail = await uow.tasks.get(task_id)
        if detail is None or detail.task.state != CLAIMED or detail.task.claim_no != claim_no:
            return
        await uow.tasks.release(task_id, claim_no)
        task = detail.task
        uow.audit.append(
            AuditEntry(
                task.ref,
                uow.clock.now(),
                audit.CLAIM_TIMER,
                audit.CLAIM_EXPIRED,
                (Reason.of("RMS-QUEUE-1", "the claim expired: the BE is back at its place"),),
                {"task_id": task_id, "claimed_by": task.claimed_by, "claim_no": claim_no},
                document=task.document,
            )
        )

    return {CLAIM_EXPIRED: on_claim_expired}


def claim_expiry(at: datetime, ttl_s: float) -> datetime:
    return at + timedelta(seconds=ttl_s)
