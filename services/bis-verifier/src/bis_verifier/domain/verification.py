"""BIS verdict for a Bill of Entry (pure).

Implemented here: BIS-CRS-1 (a declared registration must be in the register
and valid at clearance) and BIS-CRS-2 (deferred or cancelled never clears).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from clearance_domain import BillOfEntry, Reason

from bis_verifier.domain.register import Registration, RegistrationStatus

Lookup = Callable[[str], Registration | None]
_BIS_DOCUMENTS = ("bis_registration",)


@dataclass(frozen=True)
class Verdict:
    verdict: str  # passed | failed | conditional | not_applicable
    findings: tuple[Reason, ...] = field(default_factory=tuple)


def check_registration(
    number: str, lookup: Lookup, on: date, item_sl_no: int | None
) -> list[Reason]:
    """Findings against one declared registration number (empty when valid)."""
    registration = lookup(number)
    if registration is None:
        return [
            Reason.of(
                "BIS-CRS-1",
                f"registration {number} is not in the BIS register",
                item_sl_no=item_sl_no,
            )
        ]
    status = registration.status
    if status in (RegistrationStatus.DEFERRED, RegistrationStatus.CANCELLED):
        message = f"registration {number} is {registration.status_text}"
        return [Reason.of("BIS-CRS-2", message, item_sl_no=item_sl_no)]
    if status is not RegistrationStatus.OPERATIVE:
        message = f"registration {number} is not valid: {registration.status_text}"
        return [Reason.of("BIS-CRS-1", message, item_sl_no=item_sl_no)]
    if registration.valid_upto is None or registration.valid_upto < on:
        message = (
            f"registration {number} was valid only up to {registration.valid_upto} (BE date {on})"
        )
        return [Reason.of("BIS-CRS-1", message, item_sl_no=item_sl_no)]
    return []


def verify(bill_of_entry: BillOfEntry, lookup: Lookup) -> Verdict:
    """Check every BIS registration declared on the BE against the register."""
    documents = bill_of_entry.documents(*_BIS_DOCUMENTS)
    if not documents:
        return Verdict("not_applicable")
    findings = [
        finding
        for doc in documents
        for finding in check_registration(
            doc.reference, lookup, bill_of_entry.be_date, doc.item_sl_no
        )
    ]
    return Verdict("failed" if findings else "passed", tuple(findings))
