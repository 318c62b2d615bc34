"""What warehouse-seal does when a warehousing Bill of Entry version is registered."""

from __future__ import annotations

from clearance_contracts import BILL_OF_ENTRY_REGISTERED, SEAL_TRIP_RECONCILED
from clearance_domain import BillOfEntry, BillOfEntryRef, VersionGate
from clearance_domain.reasons import reasons_data
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.tracing import continuing
from clearance_runtime.unit_of_work import Collected

from warehouse_seal.domain.seals import needs_seal, reconcile
from warehouse_seal.service_layer.unit_of_work import SealUnitOfWork

_RECONCILED = "warehouse-seal.reconciled"


async def on_registered(event: CloudEvent, uow: SealUnitOfWork) -> None:
    """SEAL-FMT-1, SEAL-DATA-1: reconcile the seals of a warehousing BE version."""
    bill_of_entry = BillOfEntry.from_data(event.data["bill_of_entry"])
    if not needs_seal(bill_of_entry):
        return
    ref = BillOfEntryRef.from_data(event.data["bill_of_entry_ref"])
    uow.collect(_RECONCILED, (ref, reconcile(bill_of_entry)), record_reconciliations)


async def record_reconciliations(uow: SealUnitOfWork, reconciled: Collected) -> None:
    """One reconciliation per BE version; a late, older version changes nothing."""
    refs = [item[0] for item, _ in reconciled]
    gate = VersionGate(await uow.reconciliations.latest_versions([r.identity for r in refs]))
    for (ref, reconciliation), carrier in reconciled:
        if not gate.admits(ref):
            DECISIONS.labels("warehouse-seal", "seal", "stale").inc()
            continue
        uow.reconciliations.add(ref, reconciliation)
        with continuing(carrier):
            uow.publish(
                SEAL_TRIP_RECONCILED,
                ref.key,
                {
                    "bill_of_entry_ref": ref.to_data(),
                    "outcome": reconciliation.outcome,
                    "warehouse_code": reconciliation.warehouse_code,
                    "seal_numbers": list(reconciliation.seal_numbers),
                    "findings": reasons_data(list(reconciliation.findings)),
                    "reconciled_at": uow.clock.now().isoformat(),
                },
            )
        DECISIONS.labels("warehouse-seal", "seal", reconciliation.outcome).inc()


HANDLERS: dict[str, Handler] = {BILL_OF_ENTRY_REGISTERED: on_registered}
