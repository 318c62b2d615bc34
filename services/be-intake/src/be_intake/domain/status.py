"""The "where is my BE?" view: which stage a BE has reached and why (pure)."""

from __future__ import annotations

from dataclasses import dataclass
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
    reasons: list[dict[str, Any]]
    out_of_charge_no: str | None = None
    gatepass_no: str | None = None


def change_for(event_type: str, data: dict[str, Any]) -> StatusChange:
    """What an event says about the BE's status."""
    reasons = data.get("reasons") or data.get("findings") or []
    return StatusChange(
        stage=STAGE_OF_EVENT[event_type],
        reasons=list(reasons),
        out_of_charge_no=data.get("ooc_no"),
        gatepass_no=data.get("gatepass_no"),
    )


def next_stage(current: str | None, incoming: str) -> str:
    """The later of the two stages: late-arriving events never move a BE back."""
    if current is None or STAGE_RANK[incoming] >= STAGE_RANK[current]:
        return incoming
    return current
