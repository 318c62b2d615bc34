"""What warehouse-seal does when a warehousing Bill of Entry is registered."""

from __future__ import annotations

from datetime import UTC, datetime

from clearance_contracts import BILL_OF_ENTRY_REGISTERED, SEAL_TRIP_RECONCILED
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.unit_of_work import UnitOfWork

from warehouse_seal.adapters import repository
from warehouse_seal.domain.seals import needs_seal, reconcile


async def on_registered(event: CloudEvent, uow: UnitOfWork) -> None:
    """SEAL-FMT-1, SEAL-DATA-1: reconcile the seals of a warehousing BE."""
    bill_of_entry = event.data["bill_of_entry"]
    if not needs_seal(bill_of_entry):
        return
    ref = {key: bill_of_entry[key] for key in ("port_code", "be_no", "be_date")}
    reconciliation = reconcile(bill_of_entry)
    repository.add_reconciliation(uow, ref, reconciliation)
    uow.publish(
        SEAL_TRIP_RECONCILED,
        event.subject,
        {
            "bill_of_entry_ref": ref,
            "outcome": reconciliation.outcome,
            "warehouse_code": reconciliation.warehouse_code,
            "seal_numbers": reconciliation.seal_numbers,
            "findings": reconciliation.findings,
            "reconciled_at": datetime.now(UTC).isoformat(),
        },
    )
    DECISIONS.labels("warehouse-seal", "seal", reconciliation.outcome).inc()


HANDLERS: dict[str, Handler] = {BILL_OF_ENTRY_REGISTERED: on_registered}
