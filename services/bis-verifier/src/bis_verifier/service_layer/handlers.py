"""What bis-verifier does when a Bill of Entry is registered."""

from __future__ import annotations

from datetime import UTC, datetime

from clearance_contracts import BILL_OF_ENTRY_REGISTERED, BIS_VERIFICATION_COMPLETED
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.unit_of_work import UnitOfWork

from bis_verifier.adapters import repository
from bis_verifier.domain.verification import Lookup, verify


def handlers(lookup: Lookup) -> dict[str, Handler]:
    async def on_registered(event: CloudEvent, uow: UnitOfWork) -> None:
        """BIS-CRS-1, BIS-CRS-2: verify, record, and pass the BE on with the verdict."""
        bill_of_entry = event.data["bill_of_entry"]
        ref = {key: bill_of_entry[key] for key in ("port_code", "be_no", "be_date")}
        verdict = verify(bill_of_entry, lookup)
        repository.add_verification(uow, **ref, verdict=verdict)
        uow.publish(
            BIS_VERIFICATION_COMPLETED,
            event.subject,
            {
                "bill_of_entry_ref": ref,
                "verdict": verdict.verdict,
                "findings": verdict.findings,
                "bill_of_entry": bill_of_entry,
                "verified_at": datetime.now(UTC).isoformat(),
            },
        )
        DECISIONS.labels("bis-verifier", "bis", verdict.verdict).inc()

    return {BILL_OF_ENTRY_REGISTERED: on_registered}
