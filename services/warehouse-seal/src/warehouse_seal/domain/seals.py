"""Seal reconciliation for a warehousing Bill of Entry (pure).

Implemented here: SEAL-FMT-1 (seal number `ABCD XXXX XXXX`) and SEAL-DATA-1
(the BE carries the seal of each container moved to the warehouse). Trip
reports, tamper and delay (SEAL-TRIP-1, SEAL-TAMPER-2, SEAL-DELAY-1) need the
RFID vendors' trip events and are not part of this reconciliation yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SEAL_NUMBER = re.compile(r"^[A-Z]{4} ?[0-9]{4} ?[0-9]{4}$")
WAREHOUSING = "W"


def needs_seal(bill_of_entry: Mapping[str, Any]) -> bool:
    """Only warehousing BEs move under an RFID one-time-lock seal."""
    return bill_of_entry.get("be_type") == WAREHOUSING


@dataclass(frozen=True)
class Reconciliation:
    outcome: str  # matched | mismatched | tampered | delayed | exempt
    warehouse_code: str
    seal_numbers: list[str]
    findings: list[dict[str, Any]] = field(default_factory=list)


def reconcile(bill_of_entry: Mapping[str, Any]) -> Reconciliation:
    containers = bill_of_entry.get("containers") or []
    seals = [str(c.get("seal_no") or "") for c in containers]
    findings: list[dict[str, Any]] = []
    if not containers:
        findings.append(
            {"rule_id": "SEAL-DATA-1", "message": "no container seal declared for warehousing"}
        )
    findings += [
        {"rule_id": "SEAL-FMT-1", "message": f"seal {seal!r} is not of the form ABCD XXXX XXXX"}
        for seal in seals
        if not SEAL_NUMBER.fullmatch(seal)
    ]
    return Reconciliation(
        outcome="mismatched" if findings else "matched",
        warehouse_code=str(bill_of_entry.get("warehouse_code") or ""),
        seal_numbers=seals,
        findings=findings,
    )
