"""The "where is my BE?" view: which stage a BE's newest version has reached and why (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clearance_contracts import (
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_REGISTERED,
    BILL_OF_ENTRY_REJECTED,
    BIS_VERIFICATION_COMPLETED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RMS_DECISION_MADE,
    SEAL_TRIP_RECONCILED,
)

# Event type -> stage it puts the BE in.
STAGE_OF_EVENT = {
    BILL_OF_ENTRY_FILED: "filed",
    BILL_OF_ENTRY_REJECTED: "rejected",
    BILL_OF_ENTRY_REGISTERED: "registered",
    BIS_VERIFICATION_COMPLETED: "bis_verified",
    RMS_DECISION_MADE: "rms_decided",
    SEAL_TRIP_RECONCILED: "seal_reconciled",
    OUT_OF_CHARGE_HELD: "held",
    OUT_OF_CHARGE_ISSUED: "out_of_charge",
}

# Events of different topics may be folded in any order; a BE never moves back.
STAGE_RANK = {
    "filed": 0,
    "rejected": 0,  # a corrected re-filing may still register
    "registered": 1,
    "bis_verified": 2,
    "rms_decided": 3,
    "seal_reconciled": 4,
    "held": 5,
    "out_of_charge": 6,
}


@dataclass(frozen=True)
class StatusChange:
    stage: str
    version: int
    reasons: list[dict[str, Any]] = field(default_factory=list)
    out_of_charge_no: str | None = None
    gatepass_no: str | None = None


def change_for(event_type: str, data: dict[str, Any]) -> StatusChange:
    """What an event says about the BE's status."""
    reasons = data.get("reasons") or data.get("findings") or []
    ref = data.get("bill_of_entry_ref") or {}
    return StatusChange(
        stage=STAGE_OF_EVENT[event_type],
        version=int(ref.get("version", 1)),
        reasons=list(reasons),
        out_of_charge_no=data.get("ooc_no"),
        gatepass_no=data.get("gatepass_no"),
    )


@dataclass(frozen=True)
class Status:
    stage: str
    version: int
    out_of_charge: bool = False


def next_status(current: Status | None, incoming: Status) -> Status:
    """Fold an event into the view: Out of Charge, whatever its version, is where the
    BE stays (the release stands, INTAKE-AMEND-2); otherwise a newer version starts
    over, an older version changes nothing, and within a version the later of the
    two stages wins."""
    if current is None:
        return incoming
    out = current.out_of_charge or incoming.out_of_charge
    if incoming.out_of_charge and not current.out_of_charge:
        return Status(incoming.stage, max(current.version, incoming.version), True)
    if incoming.version > current.version and not current.out_of_charge:
        return Status(incoming.stage, incoming.version, out)
    version = max(current.version, incoming.version)
    if incoming.version < current.version or current.out_of_charge:
        return Status(current.stage, version, out)
    later = STAGE_RANK[incoming.stage] >= STAGE_RANK[current.stage]
    return Status(incoming.stage if later else current.stage, version, out)
