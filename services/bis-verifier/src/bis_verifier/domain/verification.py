"""BIS verdict for a Bill of Entry (pure).

Implemented here: BIS-CRS-1 (a declared registration must be in the register
and valid at clearance) and BIS-CRS-2 (deferred or cancelled never clears).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bis_verifier.domain.register import Registration, RegistrationStatus

Lookup = Callable[[str], Registration | None]
_BIS_DOCUMENTS = {"bis_registration"}


@dataclass(frozen=True)
class Verdict:
    verdict: str  # passed | failed | conditional | not_applicable
    findings: list[dict[str, Any]] = field(default_factory=list)


def _finding(rule_id: str, message: str, item_sl_no: int | None) -> dict[str, Any]:
    finding: dict[str, Any] = {"rule_id": rule_id, "message": message}
    if item_sl_no is not None:
        finding["item_sl_no"] = item_sl_no
    return finding


def check_registration(
    number: str, lookup: Lookup, on: date, item_sl_no: int | None
) -> list[dict[str, Any]]:
    """Findings against one declared registration number (empty when valid)."""
    registration = lookup(number)
    if registration is None:
        return [
            _finding("BIS-CRS-1", f"registration {number} is not in the BIS register", item_sl_no)
        ]
    status = registration.status
    if status in (RegistrationStatus.DEFERRED, RegistrationStatus.CANCELLED):
        return [
            _finding(
                "BIS-CRS-2", f"registration {number} is {registration.status_text}", item_sl_no
            )
        ]
    if status is not RegistrationStatus.OPERATIVE:
        return [
            _finding(
                "BIS-CRS-1",
                f"registration {number} is not valid: {registration.status_text}",
                item_sl_no,
            )
        ]
    if registration.valid_upto is None or registration.valid_upto < on:
        return [
            _finding(
                "BIS-CRS-1",
                f"registration {number} was valid only up to "
                f"{registration.valid_upto} (BE date {on})",
                item_sl_no,
            )
        ]
    return []


def verify(bill_of_entry: Mapping[str, Any], lookup: Lookup) -> Verdict:
    """Check every BIS registration declared on the BE against the register."""
    documents = [
        doc
        for doc in bill_of_entry.get("supporting_documents", [])
        if doc.get("document_type") in _BIS_DOCUMENTS
    ]
    if not documents:
        return Verdict("not_applicable")
    on = date.fromisoformat(bill_of_entry["be_date"])
    findings = [
        finding
        for doc in documents
        for finding in check_registration(doc["reference"], lookup, on, doc.get("item_sl_no"))
    ]
    return Verdict("failed" if findings else "passed", findings)
