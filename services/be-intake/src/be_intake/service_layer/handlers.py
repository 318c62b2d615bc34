"""What be-intake does when a filing or a downstream verdict arrives.

Filings come from the upstream topic or the HTTP API and take the same path.
Downstream events are folded into the status view ("where is my BE?").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
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
    bill_of_entry_key,
)
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.unit_of_work import UnitOfWork

from be_intake.adapters import repository
from be_intake.domain.filing import Reason, identity, rejection_reasons
from be_intake.domain.status import change_for

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
    reasons: list[Reason]


async def file_bill_of_entry(
    filing: dict[str, Any], event_id: str, uow: UnitOfWork
) -> IntakeResult:
    """Register a valid filing, or reject it with rule-cited reasons.

    A BE of an identity already registered is a duplicate: nothing is
    published again.
    """
    be_identity = identity(filing)
    subject = bill_of_entry_key(*be_identity)
    ref = {"port_code": be_identity[0], "be_no": be_identity[1], "be_date": be_identity[2]}
    now = datetime.now(UTC).isoformat()
    reasons = rejection_reasons(filing)
    if reasons:
        data: dict[str, Any] = {"bill_of_entry_ref": ref, "reasons": reasons, "rejected_at": now}
        outcome, event_type = "rejected", BILL_OF_ENTRY_REJECTED
    elif await repository.add_bill_of_entry(uow.session, be_identity, filing, event_id):
        data = {"bill_of_entry": filing, "registered_at": now}
        outcome, event_type = "registered", BILL_OF_ENTRY_REGISTERED
    else:
        return IntakeResult("duplicate", [])
    uow.publish(event_type, subject, data)
    repository.record_status(uow, be_identity, event_type, change_for(event_type, data))
    DECISIONS.labels("be-intake", "intake", outcome).inc()
    return IntakeResult(outcome, reasons)


async def handle_filed(event: CloudEvent, uow: UnitOfWork) -> None:
    await file_bill_of_entry(event.data, event.id, uow)


async def fold_into_status(event: CloudEvent, uow: UnitOfWork) -> None:
    """A downstream verdict moves the BE's status (never backwards)."""
    ref = event.data["bill_of_entry_ref"]
    be_identity = (ref["port_code"], ref["be_no"], ref["be_date"])
    repository.record_status(uow, be_identity, event.type, change_for(event.type, event.data))


HANDLERS: dict[str, Handler] = {BILL_OF_ENTRY_FILED: handle_filed}
HANDLERS.update(dict.fromkeys(DOWNSTREAM, fold_into_status))
