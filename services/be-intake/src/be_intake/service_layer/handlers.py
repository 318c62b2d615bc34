"""What be-intake does when a filing, a fact of another party, a timer or an officer's
request arrives.

Every consumed event becomes a work item (`messages.py`); the items of a batch are
processed together once per batch (`process`): the directory, rms-router's assessment
routing and arrivals first, then the filings (validated, deduplicated, registered in one
statement), then everything else in arrival order against the BEs' cases, read locked in one
statement and written in one. The HTTP API and the timers take the same path with a
batch of one. The cases record the events their changes cause (notices, payments,
invalidations); `render_events` turns them into contract events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from clearance_contracts import (
    AEO_CERTIFICATE_RECORDED,
    ASSESSMENT_COMPLETED,
    ASSESSMENT_ROUTING_PUBLISHED,
    BILL_OF_ENTRY_AMENDMENT_FILED,
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_INVALIDATED,
    BILL_OF_ENTRY_NOTICE_PUBLISHED,
    BILL_OF_ENTRY_REGISTERED,
    BILL_OF_ENTRY_REJECTED,
    BIS_SAMPLE_CONCLUDED,
    BIS_VERIFICATION_COMPLETED,
    BIS_VERIFICATION_PENDING,
    DEFERRED_PAYMENT_AUTHENTICATED,
    DUTY_DEMAND_RAISED,
    DUTY_PAYMENT_RECEIVED,
    DUTY_PAYMENT_RECORDED,
    EXAMINATION_COMPLETED,
    GATE_OUT_REPORTED,
    ICES_MESSAGE_ISSUED,
    IGM_ENTERED_INWARD,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    PGA_NOC_RECORDED,
    RE_EXPORT_ORDERED,
    RMS_DECISION_MADE,
    SEAL_TRIP_ALERT_RAISED,
    SEAL_TRIP_RECONCILED,
    topic,
    topics,
)
from clearance_domain import AeoTier, BillOfEntry, BillOfEntryRef, Reason
from clearance_domain.reasons import reasons_data
from clearance_runtime.clock import CUSTOMS_TIMEZONE, start_of_day
from clearance_runtime.consumer import Handler, RawHandler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.policies import PolicyBook
from clearance_runtime.timers import Timer, TimerHandler
from clearance_runtime.tracing import continuing, current_carrier

from be_intake.adapters.ices import messages as ices_messages
from be_intake.domain import amendment as amendments
from be_intake.domain.calendar import Calendar
from be_intake.domain.case import (
    CaseEvent,
    IcesMessage,
    IntakeCase,
    Invalidated,
    Notice,
    PaymentRecorded,
    filer_of,
)
from be_intake.domain.deadlines import (
    arrived_in_time,
    deferred_duty_due,
    lateness,
    presentation,
    prior_entry_expiry,
)
from be_intake.domain.filing import rejection_reasons
from be_intake.service_layer.messages import (
    Amendment,
    AmendmentDecision,
    Arrival,
    Certificate,
    Deferment,
    DeferredDutyDue,
    Fact,
    Filing,
    Identity,
    Item,
    Payment,
    PriorEntryExpired,
    Result,
    Routing,
    Waiver,
)
from be_intake.service_layer.unit_of_work import IntakeUnitOfWork, NewBillOfEntry, TimelineEntry

SERVICE = "be-intake"
PRIOR_ENTRY_TIMER = "prior-entry-expiry"
DEFERRED_DUE_TIMER = "deferred-duty-due"
_BATCH = "be-intake.items"
_FILER = __import__("re").compile(r"^[A-Z0-9]{10,15}$")
_ARRIVAL_MODE = {"S": "sea", "A": "air", "L": "land"}

#: Facts of other services folded into the status view: event type -> fact name.
FACTS = {
    BIS_VERIFICATION_COMPLETED: "bis",
    BIS_VERIFICATION_PENDING: "bis_pending",
    BIS_SAMPLE_CONCLUDED: "bis_sample",
    RMS_DECISION_MADE: "rms",
    ASSESSMENT_COMPLETED: "assessment",
    EXAMINATION_COMPLETED: "examination",
    PGA_NOC_RECORDED: "pga_noc",
    SEAL_TRIP_RECONCILED: "seal",
    SEAL_TRIP_ALERT_RAISED: "seal_alert",
    DUTY_DEMAND_RAISED: "duty_demand",
    OUT_OF_CHARGE_HELD: "held",
    OUT_OF_CHARGE_ISSUED: "out_of_charge",
    RE_EXPORT_ORDERED: "re_export",
    GATE_OUT_REPORTED: "gate_out",
}
# be-intake's own events it reads back into the timeline only (already applied).
OWN_EVENTS = (DUTY_PAYMENT_RECORDED, BILL_OF_ENTRY_INVALIDATED)
#: Writes an ICES message's file where the broker's system waits for it (the inbox
#: directory): (file name, flat file text).
FileWriter = Callable[[str, str], Awaitable[None]]


# -- the edge: events in, items out -------------------------------------------------------


def item_of(event: CloudEvent) -> Item | None:
    """The work item an event is, or None for one that only goes to the timeline."""
    data = event.data
    if event.type == BILL_OF_ENTRY_FILED:
        return Filing(data, event.id, service_centre="/service-centre" in event.source)
    if event.type == BILL_OF_ENTRY_AMENDMENT_FILED:
        return Amendment(data, event.id)
    if event.type == AEO_CERTIFICATE_RECORDED:
        return Certificate(data)
    if event.type == ASSESSMENT_ROUTING_PUBLISHED:
        return Routing(data)
    if event.type == IGM_ENTERED_INWARD:
        return Arrival(data)
    if event.type == DUTY_PAYMENT_RECEIVED:
        return Payment(data)
    if event.type == DEFERRED_PAYMENT_AUTHENTICATED:
        return Deferment(data)
    ref_data = data.get("bill_of_entry_ref")
    if event.type in FACTS and ref_data:
        producer = topic(event.type).owner
        return Fact(event.type, producer, data, BillOfEntryRef.from_data(ref_data))
    return None


# -- the batch ----------------------------------------------------------------------------


@dataclass
class _Batch:
    uow: IntakeUnitOfWork
    book: PolicyBook
    now: datetime
    cases: dict[Identity, IntakeCase]
    timeline: list[TimelineEntry]
    traces: dict[Identity, dict[str, str]] = field(default_factory=dict)

    def case(self, identity: Identity) -> IntakeCase:
        return self.cases[identity]

    def trace_of(self, case: IntakeCase) -> dict[str, str] | None:
        """The BE's one trace: its filing's, else the trace of the fact at hand."""
        return case.trace or self.traces.get(case.identity)

    def note(
        self,
        case: IntakeCase,
        event_type: str,
        producer: str,
        summary: str,
        reasons: Sequence[Reason | dict[str, Any]] = (),
        version: int | None = None,
    ) -> None:
        data = [r.to_data() if isinstance(r, Reason) else dict(r) for r in reasons]
        self.timeline.append(
            TimelineEntry(
                case.identity,
                version or max(case.version, 1),
                event_type,
                producer,
                summary[:500],
                self.now,
                reasons=data,
            )
        )


async def process(
    uow: IntakeUnitOfWork,
    book: PolicyBook,
    items: Sequence[Item],
    carriers: Sequence[Mapping[str, str]] = (),
) -> list[Result | None]:
    """Apply a batch of work items (with the trace context of each, when consumed); a
    result for each filing, amendment and request."""
    intake = uow.intake
    results: list[Result | None] = [None] * len(items)
    for item in items:
        if isinstance(item, Certificate):
            intake.record_certificate(item.data)
        elif isinstance(item, Routing):
            intake.record_routing(item.data)
    for item in items:
        if isinstance(item, Arrival):
            intake.record_arrival(item.data)
    waiting: dict[int, list[Identity]] = {}
    for n, item in enumerate(items):
        if isinstance(item, Arrival):
            waiting[n] = await intake.waiting_for(item.data)
    filings = [(n, item) for n, item in enumerate(items) if isinstance(item, Filing)]
    checked = [(n, item, _parse_and_check(item.data)) for n, item in filings]
    registered = await _insert_valid(uow, checked)
    touched: list[Identity] = [item.identity for _, item in filings]
    for n, item in enumerate(items):
        if isinstance(item, Arrival):
            touched += waiting[n]
        elif not isinstance(item, Certificate | Routing | Filing):
            touched.append(item.identity)
    cases = await intake.cases(list(dict.fromkeys(touched)))
    batch = _Batch(uow, book, uow.clock.now(), cases, [], _traces(items, carriers))
    newly = [batch.case(i) for i in registered]
    await _register_filings(batch, checked, registered, results)
    await _enrich(batch, newly)
    arrivals = await intake.arrivals_for(newly) if newly else {}
    filed = _first_filings(checked)
    for case in newly:
        if case.identity in arrivals:
            _arrival(batch, case, arrivals[case.identity], registration=True)
        else:
            _prior_entry_timer(batch, case)
        _publish_registered(batch, case, filed[case.identity].data, amendment=None)
        _check_early_deferment(batch, case)
        case.announce_pending_payments(batch.now)
    for n, item in enumerate(items):
        if isinstance(item, Arrival):
            for identity in waiting[n]:
                _arrival(batch, batch.case(identity), _arrival_of(item.data))
        elif isinstance(item, Amendment):
            results[n] = await _amend(batch, item)
        elif isinstance(item, Payment):
            _payment(batch, item)
        elif isinstance(item, Deferment):
            _deferment(batch, item)
        elif isinstance(item, Fact):
            _fact(batch, item)
        elif isinstance(item, PriorEntryExpired):
            _prior_entry_expired(batch, batch.case(item.identity))
        elif isinstance(item, DeferredDutyDue):
            _deferred_due(batch, batch.case(item.identity))
        elif isinstance(item, Waiver):
            results[n] = _waive(batch, item)
        elif isinstance(item, AmendmentDecision):
            results[n] = await _decide_amendment(batch, item)
    carrier = current_carrier()
    for case in batch.cases.values():
        _note_ices_messages(batch, case)
        if case.registered or case.payments or case.deferred or case.rejections:
            if case.trace is None and case.registered:
                case.trace = batch.trace_of(case) or carrier or None
            intake.save(case)
            uow.track(case, batch.trace_of(case) or carrier)
    for entry in batch.timeline:
        status = batch.cases[entry.identity].status
        if status is not None:
            entry = replace(entry, status=status.value, notice_code=status.code)
        intake.add_timeline(entry)
    return results


def _note_ices_messages(batch: _Batch, case: IntakeCase) -> None:
    """The timeline shows each CHCAI04 / CHCAI07 sent to the filer's system (issue 9)."""
    for event in case.events:
        if isinstance(event, IcesMessage):
            what = "processed BE" if event.message_id == "CHCAI04" else "out-of-charge BE"
            summary = f"ICES {event.message_id} ({what}) sent to {event.to} ({event.channel})"
            batch.note(case, ICES_MESSAGE_ISSUED, SERVICE, summary, version=event.ref.version)


def _first_filings(checked: Sequence[tuple[int, Filing, Any]]) -> dict[Identity, Filing]:
    """The batch's first filing of each BE, by identity: one pass, not a scan per BE
    (issue 18: the scan was quadratic in the batch)."""
    first: dict[Identity, Filing] = {}
    for _, item, _ in checked:
        first.setdefault(item.identity, item)
    return first


@dataclass(frozen=True)
class _Checked:
    be: BillOfEntry | None
    reasons: list[Reason]


def _parse_and_check(data: dict[str, Any]) -> _Checked:
    be = BillOfEntry.from_data(data)
    return _Checked(be, rejection_reasons(be))


async def _insert_valid(
    uow: IntakeUnitOfWork, checked: Sequence[tuple[int, Filing, _Checked]]
) -> list[Identity]:
    bills = []
    seen: set[Identity] = set()
    for _, item, result in checked:
        be = result.be
        if be is None or result.reasons or item.identity in seen:
            continue
        seen.add(item.identity)
        bills.append(
            NewBillOfEntry(
                identity=item.identity,
                filer=filer_of(be.customs_broker_code, be.iec),
                user_job_no=be.user_job_no,
                user_job_date=be.user_job_date,
                be_type=be.be_type.value,
                iec=be.iec,
                filing=item.data,
                event_id=item.event_id,
            )
        )
    if not bills:
        return []
    inserted = await uow.intake.add_bills_of_entry(bills)
    return [bill.identity for bill in bills if bill.identity in inserted]


async def _register_filings(
    batch: _Batch,
    checked: Sequence[tuple[int, Filing, _Checked]],
    registered: Sequence[Identity],
    results: list[Result | None],
) -> None:
    """INTAKE-BE-1: register each valid filing once; reject invalid ones with every reason;
    duplicates (same identity, or same job number and date from the same filer) change
    nothing. The raw submission is kept whatever becomes of it."""
    intake = batch.uow.intake
    fresh = set(registered)
    duplicates = [
        (filer_of(r.be.customs_broker_code, r.be.iec), r.be.user_job_no, r.be.user_job_date)
        for _, item, r in checked
        if r.be is not None
        and not r.reasons
        and item.identity not in fresh
        and r.be.user_job_no
        and r.be.user_job_date
    ]
    jobs = await intake.registered_for_jobs(duplicates) if duplicates else {}
    for n, item, result in checked:
        be, reasons = result.be, result.reasons
        assert be is not None
        case = batch.case(item.identity)
        ref = be.ref(1)
        if reasons:
            outcome = "rejected" if not case.registered else "duplicate"
            if outcome == "rejected":
                _reject(batch, case, be, reasons)
            results[n] = Result(outcome, ref, reasons if outcome == "rejected" else [])
            intake.add_submission(
                "filing", item.identity, item.event_id, outcome, reasons_data(reasons), item.data
            )
            DECISIONS.labels(SERVICE, "intake", outcome).inc()
            continue
        if item.identity in fresh:
            fresh.discard(item.identity)
            _register(batch, case, be, item)
            results[n] = Result("registered", ref, [])
            intake.add_submission(
                "filing", item.identity, item.event_id, "registered", [], item.data
            )
            DECISIONS.labels(SERVICE, "intake", "registered").inc()
            continue
        job = (filer_of(be.customs_broker_code, be.iec), be.user_job_no, be.user_job_date)
        existing = jobs.get(job) if be.user_job_no and be.user_job_date else None  # type: ignore[arg-type]
        same = existing or item.identity
        known = batch.cases.get(same)
        dup_ref = BillOfEntryRef(*same, version=max(known.version, 1) if known else 1)
        results[n] = Result("duplicate", dup_ref, [])
        intake.add_submission("filing", item.identity, item.event_id, "duplicate", [], item.data)
        DECISIONS.labels(SERVICE, "intake", "duplicate").inc()


def _reject(batch: _Batch, case: IntakeCase, be: BillOfEntry, reasons: list[Reason]) -> None:
    if not case.registered:
        case.filer = filer_of(be.customs_broker_code, be.iec)
        case.iec = be.iec
    data = {
        "bill_of_entry_ref": be.ref(case.version + 1 if case.registered else 1).to_data(),
        "reasons": reasons_data(reasons),
        "rejected_at": batch.now.isoformat(),
    }
    with continuing(batch.trace_of(case)):
        batch.uow.publish(BILL_OF_ENTRY_REJECTED, be.key, data)
    case.reject(batch.now, tuple(reasons))
    batch.note(case, BILL_OF_ENTRY_REJECTED, SERVICE, "rejected on intake rules", reasons)


def _certificate_on(certificates: list[dict[str, Any]], day: date) -> dict[str, Any] | None:
    """The importer's certificate valid on `day`: the highest tier, then the latest."""
    order = {"T3": 3, "T2": 2, "T1": 1, "LO": 0}
    valid = []
    for c in certificates:
        if not (date.fromisoformat(c["valid_from"]) <= day <= date.fromisoformat(c["valid_to"])):
            continue
        ended = [c.get("suspended_from"), c.get("revoked_from")]
        if any(end and date.fromisoformat(end) <= day for end in ended):
            continue
        valid.append(c)
    if not valid:
        return None
    best = max(valid, key=lambda c: (order[c["tier"]], c["valid_from"]))
    return {k: best[k] for k in ("certificate_no", "iec", "tier", "valid_from", "valid_to")}


def _register(batch: _Batch, case: IntakeCase, be: BillOfEntry, item: Filing) -> None:
    # Presentation (INTAKE-TIME-1) is looked up with the directory in _publish_registered;
    # the case records the filing here.
    calendar = Calendar(batch.book, be.port_code)
    shown = presentation(be.filed_at, batch.book, calendar, service_centre=item.service_centre)
    claim = None if be.aeo_tier_claimed is None else be.aeo_tier_claimed.value
    reasons = (shown.reason,) if shown.reason else ()
    if item.flat_file is not None:  # issue 9: CHCAI04 / CHCAI07 go back to its sender
        flat = item.flat_file
        case.filed_as_flat_file(flat.sender, flat.channel, flat.file_name)
    case.register(
        version=1,
        filer=filer_of(be.customs_broker_code, be.iec),
        iec=be.iec,
        be_type=be.be_type.value,
        consigned_from=be.country_of_consignment,
        transport=be.mode_of_transport.value,
        lodged_at=be.filed_at,
        presented_on=shown.day,
        aeo=None,
        aeo_claim=claim,
        igm=(be.igm.igm_no, be.igm.igm_date.isoformat()) if be.igm else None,
        master_bills=[h.master_bill_no for h in be.house_bills or ()],
        self_assessed_duty=be.duty.total_duty.amount,
        at=batch.now,
        reasons=reasons,
    )
    batch.uow.intake.add_version(be.ref(1), item.data, None, item.event_id)
    # A filing be-intake once dead-lettered is moved on now: the BE is no longer stuck.
    batch.uow.intake.resolve_dead_letters(case.identity, SERVICE)
    summary = f"registered as version 1; presented on {shown.day}"
    batch.note(case, BILL_OF_ENTRY_REGISTERED, SERVICE, summary, reasons)


# -- registration: the directory and the arrival ------------------------------------------


async def _enrich(batch: _Batch, cases: Sequence[IntakeCase]) -> None:
    """Look up the AEO certificate valid on each BE date (one query for the batch)."""
    iecs = sorted({case.iec for case in cases if case.iec})
    directory = await batch.uow.intake.certificates(iecs) if iecs else {}
    for case in cases:
        case.aeo = _certificate_on(directory.get(case.iec or "", []), case.be_date)
        _flag_aeo_claim(batch, case)


def _flag_aeo_claim(batch: _Batch, case: IntakeCase) -> None:
    """The filing's AEO tier is a claim: compared, flagged, never used (OOC-AUTO-1)."""
    found = case.aeo["tier"] if case.aeo else None
    if case.aeo_claim and case.aeo_claim != found:
        message = (
            f"the filing claims AEO {case.aeo_claim}; the AEO directory has "
            + (f"{found} ({case.aeo['certificate_no']})" if case.aeo else "no certificate")
            + f" for IEC {case.iec} valid on {case.be_date}: the claim decides nothing"
        )
        batch.note(
            case,
            AEO_CERTIFICATE_RECORDED,
            SERVICE,
            "AEO claim differs from the directory",
            [Reason.of("OOC-AUTO-1", message)],
        )


def _arrival_of(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in ("igm_no", "igm_date", "inward_date", "mode")}


def _arrival(
    batch: _Batch, case: IntakeCase, arrival: dict[str, Any], *, registration: bool = False
) -> None:
    """The carrier arrived: INTAKE-PRIOR-1 (within 30 days of presentation), and the
    filing deadline (INTAKE-LATE-1/-3) with its charges (INTAKE-LATE-2)."""
    if not case.record_arrival(_arrival_of(arrival)) or case.presented_on is None:
        return
    inward = date.fromisoformat(arrival["inward_date"])
    batch.uow.cancel(PRIOR_ENTRY_TIMER, case.ref.key)
    reasons: list[Reason] = []
    if case.invalidated is None and not arrived_in_time(case.presented_on, inward):
        invalid = Reason.of(
            "INTAKE-PRIOR-1",
            f"presented on {case.presented_on}; the carrier arrived on {inward}, "
            "more than 30 days later",
        )
        if case.invalidate(batch.now, (invalid,)):
            reasons.append(invalid)
    calendar = Calendar(batch.book, case.port_code)
    late = lateness(
        case.presented_on, inward, arrival["mode"], case.consigned_from, batch.book, calendar
    )
    case.record_lateness(
        {
            "rule_id": late.rule_id,
            "deadline": late.deadline.isoformat(),
            "presented_on": late.presented_on.isoformat(),
            "arrival": inward.isoformat(),
            "days_late": late.days_late,
            "charge": str(late.charge.amount),
            "policy": late.policy.to_data(),
            "calendar": [ref.to_data() for ref in late.calendar],
        }
    )
    reasons += late.reasons()
    case.refresh(batch.now, tuple(reasons))
    igm = f"IGM {arrival['igm_no']} of {arrival['igm_date']}"
    summary = f"carrier arrived on {inward} ({igm}, {arrival['mode']})"
    if late.late:
        summary += f"; presented {late.days_late} day(s) late"
    if not registration or reasons:
        batch.note(case, IGM_ENTERED_INWARD, "icegate-upstream", summary, reasons)


def _prior_entry_timer(batch: _Batch, case: IntakeCase) -> None:
    """INTAKE-PRIOR-1: presented before the carrier's arrival is known, the BE is a prior
    entry; a timer invalidates it at the start of day 31 unless the carrier arrives."""
    if case.presented_on is None:
        return
    due = prior_entry_expiry(case.presented_on)
    batch.uow.schedule(
        PRIOR_ENTRY_TIMER, case.ref.key, due, {"presented_on": case.presented_on.isoformat()}
    )


def _prior_entry_expired(batch: _Batch, case: IntakeCase) -> None:
    if case.arrival is not None or case.presented_on is None:
        return
    reason = Reason.of(
        "INTAKE-PRIOR-1",
        f"prior entry presented on {case.presented_on}: the carrier did not arrive within 30 days",
    )
    if case.invalidate(batch.now, (reason,)):
        batch.note(
            case,
            BILL_OF_ENTRY_INVALIDATED,
            SERVICE,
            "invalidated: no arrival within 30 days",
            [reason],
        )
        DECISIONS.labels(SERVICE, "prior_entry", "invalidated").inc()


# -- payments (INTAKE-DUTY-1, INTAKE-DUTY-2) -----------------------------------------------


def _payment(batch: _Batch, item: Payment) -> None:
    data, case = item.data, batch.case(item.identity)
    payment = {
        "kind": "paid",
        "reference": data.get("transaction_no") or data["challan_no"],
        "challan_no": data["challan_no"],
        "amount": str(Decimal(str(data["amount"]))),
        "mode": data["mode"],
        "at": data["paid_at"],
    }
    if case.record_payment(payment, batch.now):
        summary = (
            f"duty payment of Rs {data['amount']:,} ({data['mode']}, challan {data['challan_no']})"
        )
        batch.note(
            case,
            DUTY_PAYMENT_RECEIVED,
            "icegate-e-payment",
            summary,
            [Reason.of("INTAKE-DUTY-1", summary)],
        )


def _deferment(batch: _Batch, item: Deferment) -> None:
    """INTAKE-DUTY-2: deferred payment is for AEO T2/T3 importers (per the directory on the
    BE date), confirmed by OTP; due by the 16th, the 1st of next month, or 31 March."""
    data, case = item.data, batch.case(item.identity)
    tier = (case.aeo or {}).get("tier")
    if case.registered and tier not in (AeoTier.T2.value, AeoTier.T3.value):
        message = (
            f"OTP authentication {data['authentication_id']} refused: deferred payment is for "
            f"AEO T2/T3 importers; the directory has {tier or 'no certificate'} for {case.iec} "
            f"on {case.be_date}"
        )
        batch.note(
            case,
            DEFERRED_PAYMENT_AUTHENTICATED,
            "icegate-e-payment",
            "deferment refused",
            [Reason.of("INTAKE-DUTY-2", message)],
        )
        return
    amount = data.get("amount")
    due = deferred_duty_due(case.be_date)
    deferment = {
        "reference": data["authentication_id"],
        "amount": str(Decimal(str(amount)) if amount is not None else case.duty),
        "due_date": due.isoformat(),
        "at": data["authenticated_at"],
    }
    case.record_deferment(deferment, batch.now)
    batch.uow.schedule(DEFERRED_DUE_TIMER, case.ref.key, start_of_day(due + timedelta(days=1)), {})
    summary = f"deferred payment authenticated by OTP ({data['authentication_id']}), due by {due}"
    batch.note(
        case,
        DEFERRED_PAYMENT_AUTHENTICATED,
        "icegate-e-payment",
        summary,
        [Reason.of("INTAKE-DUTY-2", summary)],
    )


def _check_early_deferment(batch: _Batch, case: IntakeCase) -> None:
    """An OTP authentication that came before the filing: INTAKE-DUTY-2 is checked now that
    the directory's certificate on the BE date is known."""
    tier = (case.aeo or {}).get("tier")
    if case.deferred is None or tier in (AeoTier.T2.value, AeoTier.T3.value):
        return
    message = (
        f"OTP authentication {case.deferred['reference']} refused: deferred payment is for "
        f"AEO T2/T3 importers; the directory has {tier or 'no certificate'} for {case.iec}"
    )
    case.deferred = None
    batch.uow.cancel(DEFERRED_DUE_TIMER, case.ref.key)
    batch.note(
        case,
        DEFERRED_PAYMENT_AUTHENTICATED,
        "icegate-e-payment",
        "deferment refused",
        [Reason.of("INTAKE-DUTY-2", message)],
    )


def _deferred_due(batch: _Batch, case: IntakeCase) -> None:
    """INTAKE-DUTY-2: the due date of the deferred duty passed; remind if it is unpaid."""
    if case.deferred is None or case.total_paid >= case.amount_due:
        return
    message = (
        f"deferred duty was due by {case.deferred['due_date']}: Rs "
        f"{case.amount_due - case.total_paid:,} unpaid"
    )
    reason = Reason.of("INTAKE-DUTY-2", message)
    case.deferred = None  # the deferment lapsed: the duty is due
    case.refresh(batch.now, (reason,))
    batch.note(case, DEFERRED_PAYMENT_AUTHENTICATED, SERVICE, "deferred duty overdue", [reason])


# -- registered versions ------------------------------------------------------------------


def _publish_registered(
    batch: _Batch, case: IntakeCase, bill_of_entry: dict[str, Any], amendment: dict[str, Any] | None
) -> None:
    """clearance.bill-of-entry.registered.v1, enriched with the facts of their owners: the
    AEO certificate valid on the BE date (never the filer's claim) and the arrival."""
    data = {
        "bill_of_entry_ref": case.ref.to_data(),
        "bill_of_entry": bill_of_entry,
        "registered_at": batch.now.isoformat(),
        "aeo_certificate": case.aeo,
        "amendment": amendment,
        "arrival": case.arrival,
    }
    with continuing(batch.trace_of(case)):
        batch.uow.publish(BILL_OF_ENTRY_REGISTERED, case.ref.key, data)


# -- amendments (INTAKE-AMEND-1, INTAKE-AMEND-2) -------------------------------------------


async def _amend(batch: _Batch, item: Amendment) -> Result:
    """An amendment is checked by every intake rule and compared with the current version.
    Before Out of Charge it is registered as the next version at once (BIS and RMS decide
    again; an amendment of an element of assessment after assessment invalidates it); after
    Out of Charge it needs documentary evidence that existed at clearance and goes to an
    officer (INTAKE-AMEND-2)."""
    intake, case = batch.uow.intake, batch.case(item.identity)
    be = BillOfEntry.from_data(item.data["bill_of_entry"])
    reasons = rejection_reasons(be)
    current = await intake.current_bill_of_entry(item.identity) if case.registered else None
    if current is None or case.invalidated is not None:
        why = "is not registered" if current is None else "was invalidated"
        reasons.append(Reason.of("INTAKE-AMEND-1", f"BE {be.key} {why}: nothing to amend"))
    changes = (
        [] if current is None else amendments.changed_elements(current, item.data["bill_of_entry"])
    )
    if current is not None and not changes:
        intake.add_submission("amendment", item.identity, item.event_id, "duplicate", [], item.data)
        return Result("duplicate", case.ref, [])
    if case.pending_amendment is not None:
        reasons.append(Reason.of("INTAKE-AMEND-2", "an earlier amendment still awaits the officer"))
    if case.ooc is not None and not reasons:
        reasons += amendments.evidence_reasons(
            item.data.get("documentary_evidence", []), date.fromisoformat(case.ooc["on"])
        )
    if reasons:
        if case.registered:
            _reject(batch, case, be, reasons)
        intake.add_submission(
            "amendment", item.identity, item.event_id, "rejected", reasons_data(reasons), item.data
        )
        return Result("rejected", case.ref.next_version(), reasons)
    proposal = {
        "amendment_no": case.amendments + 1,
        "bill_of_entry": item.data["bill_of_entry"],
        "reason": item.data["reason"],
        "documentary_evidence": item.data.get("documentary_evidence", []),
        "changed_elements": changes,
        "event_id": item.event_id,
        "requested_at": item.data["requested_at"],
    }
    if case.ooc is not None:
        case.propose_amendment(proposal, batch.now)
        intake.add_submission("amendment", item.identity, item.event_id, "pending", [], item.data)
        changed = ", ".join(changes[:8])
        summary = (
            f"amendment {proposal['amendment_no']} after Out of Charge to the officer: {changed}"
        )
        batch.note(
            case,
            BILL_OF_ENTRY_AMENDMENT_FILED,
            "icegate-upstream",
            summary,
            [Reason.of("INTAKE-AMEND-2", summary)],
        )
        return Result("pending", case.ref.next_version(), [])
    _register_amendment(batch, case, be, proposal, after_out_of_charge=False)
    intake.add_submission("amendment", item.identity, item.event_id, "registered", [], item.data)
    return Result("registered", case.ref, [])


def _register_amendment(
    batch: _Batch,
    case: IntakeCase,
    be: BillOfEntry,
    proposal: dict[str, Any],
    *,
    after_out_of_charge: bool,
) -> None:
    changes = proposal["changed_elements"]
    invalidated = case.assessed and amendments.touches_assessment(changes)
    amendment = {
        "amendment_no": proposal["amendment_no"],
        "changed_elements": changes,
        "assessment_invalidated": invalidated,
        "after_out_of_charge": after_out_of_charge,
    }
    version = case.version + 1
    changed = ", ".join(changes[:8])
    message = f"amendment {proposal['amendment_no']} registered as version {version}: {changed}"
    reasons = [Reason.of("INTAKE-AMEND-2" if after_out_of_charge else "INTAKE-AMEND-1", message)]
    if invalidated:
        reasons.append(
            Reason.of(
                "INTAKE-AMEND-1",
                "an element of assessment changed after assessment: assessed again",
            )
        )
    if after_out_of_charge:
        reasons.append(
            Reason.of("INTAKE-AMEND-2", "the release stands: Out of Charge is not re-opened")
        )
    assessed_duty = case.assessed_duty
    case.register(
        version=version,
        filer=filer_of(be.customs_broker_code, be.iec),
        iec=be.iec,
        be_type=be.be_type.value,
        consigned_from=be.country_of_consignment,
        transport=be.mode_of_transport.value,
        lodged_at=be.filed_at,
        presented_on=case.presented_on or be.be_date,
        aeo=case.aeo,
        aeo_claim=None if be.aeo_tier_claimed is None else be.aeo_tier_claimed.value,
        igm=(be.igm.igm_no, be.igm.igm_date.isoformat()) if be.igm else None,
        master_bills=[h.master_bill_no for h in be.house_bills or ()],
        self_assessed_duty=be.duty.total_duty.amount,
        at=batch.now,
    )
    if not invalidated:
        case.assessed_duty = assessed_duty
    case.amendment_accepted(batch.now, tuple(reasons))
    batch.uow.intake.add_version(
        case.ref, proposal["bill_of_entry"], amendment, proposal["event_id"]
    )
    _publish_registered(batch, case, proposal["bill_of_entry"], amendment)
    batch.note(case, BILL_OF_ENTRY_REGISTERED, SERVICE, message, reasons)
    DECISIONS.labels(SERVICE, "amendment", "registered").inc()


async def _decide_amendment(batch: _Batch, item: AmendmentDecision) -> Result:
    case = batch.case(item.identity)
    pending = case.pending_amendment
    if pending is None or pending["amendment_no"] != item.amendment_no:
        return Result("unknown", case.ref if case.registered else None, [])
    if item.approved:
        case.decide_amendment(True, batch.now, ())
        be = BillOfEntry.from_data(pending["bill_of_entry"])
        _register_amendment(batch, case, be, pending, after_out_of_charge=True)
        summary = f"amendment {item.amendment_no} approved by {item.officer}: {item.reason}"
        batch.note(
            case,
            BILL_OF_ENTRY_AMENDMENT_FILED,
            SERVICE,
            summary,
            [Reason.of("INTAKE-AMEND-2", summary)],
        )
        return Result("approved", case.ref, [])
    reason = Reason.of(
        "INTAKE-AMEND-2", f"amendment {item.amendment_no} refused by {item.officer}: {item.reason}"
    )
    case.decide_amendment(False, batch.now, (reason,))
    batch.note(case, BILL_OF_ENTRY_AMENDMENT_FILED, SERVICE, reason.message, [reason])
    return Result("refused", case.ref, [reason])


def _waive(batch: _Batch, item: Waiver) -> Result:
    case = batch.case(item.identity)
    if not case.registered:
        return Result("unknown", None, [])
    try:
        case.waive_late_charges(item.officer, item.reason, batch.now)
    except ValueError as error:
        return Result("refused_waiver", case.ref, [Reason.of("INTAKE-LATE-2", str(error))])
    message = (
        f"late presentation charges waived by {item.officer} for sufficient cause: {item.reason}"
    )
    batch.note(
        case,
        "be-intake.late-charges.waived",
        SERVICE,
        message,
        [Reason.of("INTAKE-LATE-2", message)],
    )
    return Result("waived", case.ref, [])


# -- facts of the other services -----------------------------------------------------------


def _fact(batch: _Batch, item: Fact) -> None:
    """Fold a decision of another service into the case and the timeline; a fact about an
    older version stays in the timeline only (the newer version decides)."""
    case, data, name = batch.case(item.identity), item.data, FACTS[item.event_type]
    version = item.ref.version
    reasons = list(data.get("reasons") or data.get("findings") or [])
    if item.event_type == OUT_OF_CHARGE_ISSUED:
        issued = datetime.fromisoformat(data["issued_at"])
        case.record_out_of_charge(
            version,
            data["ooc_no"],
            data.get("gatepass_no") or None,
            batch.now,
            tuple(Reason.from_data(r) for r in reasons),
            mode=data["mode"],
            issued_on=issued.astimezone(CUSTOMS_TIMEZONE).date(),
        )
        gatepass = data.get("gatepass_no") or "-"
        summary = f"Out of Charge {data['ooc_no']} ({data['mode']}), e-Gatepass {gatepass}"
    elif item.event_type == GATE_OUT_REPORTED:
        case.record_gate_out(datetime.fromisoformat(data["exited_at"]))
        summary = f"goods left {data['custodian_code']} against e-Gatepass {data['gatepass_no']}"
    else:
        fact = {
            "reasons": reasons,
            "outcome": data.get("outcome")
            or data.get("verdict")
            or data.get("alert")
            or data.get("order"),
        }
        if item.event_type == RMS_DECISION_MADE:
            outcome = data["outcome"]
            fact["selections"] = list(
                data.get("selections") or ([] if outcome == "facilitated" else [outcome])
            )
        elif item.event_type == ASSESSMENT_COMPLETED:
            fact["assessed_duty"] = data["assessed_duty"]
        elif item.event_type == BIS_VERIFICATION_PENDING:
            fact.update(outcome="pending", next_attempt_at=data["next_attempt_at"])
        stale = not case.record_fact(name, version, fact, batch.now)
        summary = _summary(item.event_type, data) + (" (about an older version)" if stale else "")
    batch.uow.intake.resolve_dead_letters(case.identity, item.producer)
    batch.note(case, item.event_type, item.producer, summary, reasons, version=version)


def _summary(event_type: str, data: dict[str, Any]) -> str:
    if event_type == BIS_VERIFICATION_COMPLETED:
        return f"BIS verification: {data['verdict']}"
    if event_type == BIS_VERIFICATION_PENDING:
        retry = data["next_attempt_at"]
        return f"BIS verification pending: the registry did not answer, next try {retry}"
    if event_type == RMS_DECISION_MADE:
        group = data.get("assessment_group")
        return f"RMS: {data['outcome']}" + (f", assessment group {group}" if group else "")
    if event_type == ASSESSMENT_COMPLETED:
        return f"assessment {data['outcome']}: duty Rs {data['assessed_duty']:,}"
    if event_type == OUT_OF_CHARGE_HELD:
        return "held for an officer"
    if event_type == DUTY_DEMAND_RAISED:
        return f"duty demand: Rs {data['duty']:,} with interest Rs {data['interest']:,}"
    outcome = data.get("outcome") or data.get("alert") or data.get("order") or ""
    return f"{topic(event_type).owner}: {outcome}".strip(": ")


# -- events out ---------------------------------------------------------------------------


def render_events(uow: Any, event: CaseEvent) -> None:
    """The unit of work's renderer: a case event as the contract event it becomes."""
    ref = event.ref.to_data()
    if isinstance(event, Notice):
        if not _FILER.fullmatch(event.filer):
            return  # a filing without a usable filer (e.g. a malformed IEC): nobody to tell
        notice: dict[str, Any] = {
            "filer": event.filer,
            "bill_of_entry_ref": ref,
            "iec": event.iec,
            "notice_code": event.notice.code,
            "notice": event.notice.value,
            "status": event.status.value,
            "previous_status": None if event.previous is None else event.previous.value,
            "reasons": reasons_data(list(event.reasons)),
            "published_at": event.at.isoformat(),
        }
        uow.publish(BILL_OF_ENTRY_NOTICE_PUBLISHED, event.filer, notice)
    elif isinstance(event, Invalidated):
        invalid: dict[str, Any] = {
            "bill_of_entry_ref": ref,
            "reasons": reasons_data(list(event.reasons)),
            "invalidated_at": event.at.isoformat(),
        }
        uow.publish(BILL_OF_ENTRY_INVALIDATED, event.ref.key, invalid)
    elif isinstance(event, PaymentRecorded):
        data: dict[str, Any] = {
            "bill_of_entry_ref": ref,
            "kind": event.kind,
            "amount": float(event.amount),
            "mode": event.mode,
            "reference": event.reference,
            "total_paid": float(event.total_paid),
            "amount_due": float(event.amount_due),
            "recorded_at": event.at.isoformat(),
        }
        if event.due_date is not None:
            data["due_date"] = event.due_date.isoformat()
        uow.publish(DUTY_PAYMENT_RECORDED, event.ref.key, data)
    elif isinstance(event, IcesMessage):
        if not _FILER.fullmatch(event.filer):
            return  # no filer the topic can key (the acknowledgement went by file only)
        uow.publish(ICES_MESSAGE_ISSUED, event.filer, ices_messages.issued(event))


# -- the handler tables -------------------------------------------------------------------


def _traces(items: Sequence[Item], carriers: Sequence[Mapping[str, str]]) -> dict[Any, Any]:
    """The trace context to keep for each BE of the batch: its filing's, else the first
    fact's about it."""
    traces: dict[Any, Any] = {}
    ordered = sorted(
        zip(items, carriers, strict=False), key=lambda ic: not isinstance(ic[0], Filing)
    )
    for item, carrier in ordered:
        identity = getattr(item, "identity", None)
        if identity is not None and carrier:
            traces.setdefault(identity, dict(carrier))
    return traces


def handlers(book: PolicyBook, write_file: FileWriter | None = None) -> dict[str, Handler]:
    """Every consumed topic: its events become items processed once per batch; be-intake's
    own ICES messages are written as files for BEs filed through the inbox (`write_file`,
    when this replica has the inbox directory)."""

    async def run(uow: Any, items: list[tuple[Item, dict[str, str]]]) -> None:
        await process(uow, book, [item for item, _ in items], [trace for _, trace in items])

    async def on_event(event: CloudEvent, uow: IntakeUnitOfWork) -> None:
        item = item_of(event)
        if item is not None:
            uow.collect(_BATCH, item, run)
        elif event.type in FACTS:  # e.g. a seal alert about a shipping bill: no BE
            DECISIONS.labels(SERVICE, "fact", "not_about_a_be").inc()

    async def on_own_event(event: CloudEvent, uow: IntakeUnitOfWork) -> None:
        """be-intake's own published facts, read back: already applied when recorded."""
        DECISIONS.labels(SERVICE, "own_event", event.type).inc()

    async def on_ices_message(event: CloudEvent, uow: IntakeUnitOfWork) -> None:
        """CHCAI04 / CHCAI07 (issue 9) of a BE whose file came through the inbox directory:
        the file beside its `.ack`, where the broker's system waits for it (spec p. 11). Out
        of the transaction that decided it; written whole then renamed, under a name a
        redelivery overwrites."""
        if event.data["channel"] != "inbox" or write_file is None:
            DECISIONS.labels(SERVICE, "ices_message", "not_a_file").inc()
            return
        await write_file(event.data["file_name"], event.data["message"])
        DECISIONS.labels(SERVICE, "ices_message", "file_written").inc()

    consumed = [
        spec.name for spec in topics() if not spec.dead_letter and SERVICE in spec.consumers
    ]
    table: dict[str, Handler] = {}
    for name in consumed:
        if name == ICES_MESSAGE_ISSUED:
            table[name] = on_ices_message
        else:
            table[name] = on_own_event if name in OWN_EVENTS else on_event
    return table


def timer_handlers(book: PolicyBook) -> dict[str, TimerHandler]:
    def firing(kind: Callable[[Identity], Item]) -> TimerHandler:
        async def fire(timer: Timer, uow: Any) -> None:
            ref = BillOfEntryRef.from_key(timer.key)
            await process(uow, book, [kind(ref.identity)])

        return fire

    return {
        PRIOR_ENTRY_TIMER: firing(PriorEntryExpired),
        DEFERRED_DUE_TIMER: firing(DeferredDutyDue),
    }


async def on_dead_letter(record: Any, uow: IntakeUnitOfWork) -> None:
    """A service gave up on an event: the BE it is about is stuck until that service
    moves it on (after the cause is fixed and the dead letter replayed)."""
    headers = {name: raw.decode("utf-8", "replace") for name, raw in record.headers or ()}
    try:
        ref = BillOfEntryRef.from_key(record.key.decode() if record.key else "")
    except (ValueError, UnicodeDecodeError):
        DECISIONS.labels(SERVICE, "dead_letter", "unattributed").inc()
        return
    uow.intake.record_dead_letter(
        ref.identity,
        consumer=headers.get("dlq_consumer", "unknown"),
        event_type=headers.get("ce_type") or headers.get("dlq_original_topic", record.topic),
        reason=headers.get("dlq_reason", "")[:2000],
        record=record,
    )
    DECISIONS.labels(SERVICE, "dead_letter", "stuck").inc()


RAW_HANDLERS: dict[str, RawHandler] = {
    spec.name: on_dead_letter for spec in topics() if spec.dead_letter and SERVICE in spec.consumers
}
