"""What rms-router does when a BE version's BIS verification is complete."""

from __future__ import annotations

from clearance_contracts import BIS_VERIFICATION_COMPLETED, RMS_DECISION_MADE
from clearance_domain import BillOfEntry, BillOfEntryRef, VersionGate
from clearance_domain.reasons import reasons_data
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.tracing import continuing
from clearance_runtime.unit_of_work import Collected

from rms_router.domain.routing import decide
from rms_router.service_layer.unit_of_work import RmsUnitOfWork

_DECIDED = "rms-router.decided"


async def on_bis_verified(event: CloudEvent, uow: RmsUnitOfWork) -> None:
    """RMS-1..3, RMS-FAG-1, RMS-QUEUE-1: decide this version; recorded per batch."""
    ref = BillOfEntryRef.from_data(event.data["bill_of_entry_ref"])
    decision = decide(BillOfEntry.from_data(event.data["bill_of_entry"]))
    uow.collect(_DECIDED, (ref, decision), record_decisions)


async def record_decisions(uow: RmsUnitOfWork, decided: Collected) -> None:
    """One decision per BE version: a late, older version is neither recorded nor published."""
    refs = [item[0] for item, _ in decided]
    gate = VersionGate(await uow.decisions.latest_versions([r.identity for r in refs]))
    for (ref, decision), carrier in decided:
        if not gate.admits(ref):
            DECISIONS.labels("rms-router", "rms", "stale").inc()
            continue
        uow.decisions.add(ref, decision)
        with continuing(carrier):
            uow.publish(
                RMS_DECISION_MADE,
                ref.key,
                {
                    "bill_of_entry_ref": ref.to_data(),
                    "outcome": decision.outcome,
                    "assessment_group": decision.assessment_group,
                    "reasons": reasons_data(list(decision.reasons)),
                    "decided_at": uow.clock.now().isoformat(),
                },
            )
        DECISIONS.labels("rms-router", "rms", decision.outcome).inc()


HANDLERS: dict[str, Handler] = {BIS_VERIFICATION_COMPLETED: on_bis_verified}
