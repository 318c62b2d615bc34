"""Seal reconciliation for a warehousing Bill of Entry (pure).

Implemented here: SEAL-FMT-1 (seal number `ABCD XXXX XXXX`) and SEAL-DATA-1
(the BE carries the seal of each container moved to the warehouse). Trip
reports, tamper and delay (SEAL-TRIP-1, SEAL-TAMPER-2, SEAL-DELAY-1) need the
RFID vendors' trip events and are not part of this reconciliation yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from clearance_domain import BillOfEntry, Reason

SEAL_NUMBER = re.compile(r"^[A-Z]{4} ?[0-9]{4} ?[0-9]{4}$")


def needs_seal(bill_of_entry: BillOfEntry) -> bool:
    """Only warehousing BEs move under an RFID one-time-lock seal."""
    return bill_of_entry.is_warehousing


@dataclass(frozen=True)
class Reconciliation:
    outcome: str  # matched | mismatched | tampered | delayed | exempt
    warehouse_code: str
    seal_numbers: tuple[str, ...]
    findings: tuple[Reason, ...] = field(default_factory=tuple)


def reconcile(bill_of_entry: BillOfEntry) -> Reconciliation:
    seals = tuple(container.seal_no for container in bill_of_entry.containers or ())
    findings: list[Reason] = []
    if not seals:
        findings.append(Reason.of("SEAL-DATA-1", "no container seal declared for warehousing"))
    findings += [
        Reason.of("SEAL-FMT-1", f"seal {seal!r} is not of the form ABCD XXXX XXXX")
        for seal in seals
        if not SEAL_NUMBER.fullmatch(seal)
    ]
    return Reconciliation(
        outcome="mismatched" if findings else "matched",
        warehouse_code=bill_of_entry.warehouse_code or "",
        seal_numbers=seals,
        findings=tuple(findings),
    )
