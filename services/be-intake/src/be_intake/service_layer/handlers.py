"""What be-intake does when a filing, a downstream verdict or a dead letter arrives.

Filings come from the upstream topic or the HTTP API and take the same path.
Downstream events are folded into the status view ("where is my BE?"), and
dead letters about a BE mark it stuck until the service that gave up moves it on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearance_contracts import (
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_REGISTERED,
    BILL_OF_ENTRY_REJECTED,
    BIS_VERIFICATION_COMPLETED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RMS_DECISION_MADE,
    SEAL_TRIP_RECONCILED,
    topic,
    topics,
)
from clearance_domain import BillOfEntry, BillOfEntryRef, Reason
from clearance_domain.reasons import reasons_data
from clearance_runtime.consumer import Handler, RawHandler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS

from be_intake.domain.filing import rejection_reasons
from be_intake.domain.status import change_for
from be_intake.service_layer.unit_of_work import IntakeUnitOfWork

SERVICE = "be-intake"
DOWNSTREAM = (
    BIS_VERIFICATION_COMPLETED,
    RMS_DECISION_MADE,
    SEAL_TRIP_RECONCILED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
)


@dataclass(frozen=True)
class IntakeResult:
    """`registered`, `rejected` (with reasons) or `duplicate` (already registered)."""

    outcome: str
    ref: BillOfEntryRef
    reasons: list[Reason]


async def file_bill_of_entry(
    filing: dict[str, Any], event_id: str, uow: IntakeUnitOfWork
) -> IntakeResult:
    """Register a valid filing as version 1, or reject it with rule-cited reasons.

    A BE of an identity already registered is a duplicate: nothing is
    published again.
    """
    be = BillOfEntry.from_data(filing)
    ref = be.ref(version=1)
    now = uow.clock.now().isoformat()
    reasons = rejection_reasons(be)
    data: dict[str, Any]
    if reasons:
        data = {
            "bill_of_entry_ref": ref.to_data(),
            "reasons": reasons_data(reasons),
            "rejected_at": now,
        }
        outcome, event_type = "rejected", BILL_OF_ENTRY_REJECTED
    elif await uow.intake.add_bill_of_entry(ref, filing, event_id):
        data = {
            "bill_of_entry_ref": ref.to_data(),
            "bill_of_entry": be.to_data(),
            "registered_at": now,
        }
        outcome, event_type = "registered", BILL_OF_ENTRY_REGISTERED
    else:
        return IntakeResult("duplicate", ref, [])
    uow.publish(event_type, ref.key, data)
    uow.intake.record_status(ref.identity, event_type, SERVICE, change_for(event_type, data))
    DECISIONS.labels(SERVICE, "intake", outcome).inc()
    return IntakeResult(outcome, ref, reasons)


async def handle_filed(event: CloudEvent, uow: IntakeUnitOfWork) -> None:
    await file_bill_of_entry(event.data, event.id, uow)


async def fold_into_status(event: CloudEvent, uow: IntakeUnitOfWork) -> None:
    """A downstream verdict moves the BE's status (never backwards, never to an older version)."""
    ref = BillOfEntryRef.from_data(event.data["bill_of_entry_ref"])
    producer = topic(event.type).owner
    uow.intake.record_status(ref.identity, event.type, producer, change_for(event.type, event.data))


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


HANDLERS: dict[str, Handler] = {BILL_OF_ENTRY_FILED: handle_filed}
HANDLERS.update(dict.fromkeys(DOWNSTREAM, fold_into_status))
RAW_HANDLERS: dict[str, RawHandler] = {
    spec.name: on_dead_letter for spec in topics() if spec.dead_letter and SERVICE in spec.consumers
}
