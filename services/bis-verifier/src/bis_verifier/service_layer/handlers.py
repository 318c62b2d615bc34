"""What bis-verifier does when a Bill of Entry version is registered."""

from __future__ import annotations

from typing import Any

from clearance_contracts import BILL_OF_ENTRY_REGISTERED, BIS_VERIFICATION_COMPLETED
from clearance_domain import BillOfEntry, BillOfEntryRef, VersionGate
from clearance_domain.reasons import reasons_data
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.tracing import continuing
from clearance_runtime.unit_of_work import Collected

from bis_verifier.domain.verification import Lookup, Verdict, verify
from bis_verifier.service_layer.unit_of_work import BisUnitOfWork

_VERIFIED = "bis-verifier.verified"


def handlers(lookup: Lookup) -> dict[str, Handler]:
    async def on_registered(event: CloudEvent, uow: BisUnitOfWork) -> None:
        """BIS-CRS-1, BIS-CRS-2: verify this version; recorded and published per batch."""
        ref = BillOfEntryRef.from_data(event.data["bill_of_entry_ref"])
        verdict = verify(BillOfEntry.from_data(event.data["bill_of_entry"]), lookup)
        uow.collect(_VERIFIED, (ref, verdict, event.data["bill_of_entry"]), record_verdicts)

    return {BILL_OF_ENTRY_REGISTERED: on_registered}


async def record_verdicts(uow: BisUnitOfWork, verified: Collected) -> None:
    """One verdict per BE version: a late, older version is neither recorded nor published."""
    refs = [item[0] for item, _ in verified]
    gate = VersionGate(await uow.verifications.latest_versions([r.identity for r in refs]))
    for (ref, verdict, bill_of_entry), carrier in verified:
        if not gate.admits(ref):
            DECISIONS.labels("bis-verifier", "bis", "stale").inc()
            continue
        uow.verifications.add(ref, verdict)
        with continuing(carrier):
            uow.publish(
                BIS_VERIFICATION_COMPLETED, ref.key, _verdict_data(uow, ref, verdict, bill_of_entry)
            )
        DECISIONS.labels("bis-verifier", "bis", verdict.verdict).inc()


def _verdict_data(
    uow: BisUnitOfWork, ref: BillOfEntryRef, verdict: Verdict, bill_of_entry: dict[str, Any]
) -> dict[str, Any]:
    return {
        "bill_of_entry_ref": ref.to_data(),
        "verdict": verdict.verdict,
        "findings": reasons_data(list(verdict.findings)),
        "bill_of_entry": bill_of_entry,
        "verified_at": uow.clock.now().isoformat(),
    }
