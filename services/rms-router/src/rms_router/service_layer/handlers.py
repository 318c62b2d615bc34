"""What rms-router does when a BE's BIS verification is complete."""

from __future__ import annotations

from datetime import UTC, datetime

from clearance_contracts import BIS_VERIFICATION_COMPLETED, RMS_DECISION_MADE
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.unit_of_work import UnitOfWork

from rms_router.adapters import repository
from rms_router.domain.routing import decide


async def on_bis_verified(event: CloudEvent, uow: UnitOfWork) -> None:
    """RMS-1..3, RMS-FAG-1, RMS-QUEUE-1: decide, route, queue, publish."""
    ref = event.data["bill_of_entry_ref"]
    decision = decide(event.data["bill_of_entry"])
    repository.add_decision(uow, ref, decision)
    uow.publish(
        RMS_DECISION_MADE,
        event.subject,
        {
            "bill_of_entry_ref": ref,
            "outcome": decision.outcome,
            "assessment_group": decision.assessment_group,
            "reasons": decision.reasons,
            "decided_at": datetime.now(UTC).isoformat(),
        },
    )
    DECISIONS.labels("rms-router", "rms", decision.outcome).inc()


HANDLERS: dict[str, Handler] = {BIS_VERIFICATION_COMPLETED: on_bis_verified}
