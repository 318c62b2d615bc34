"""The "where is my BE?" view: which stage a BE has reached and why (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Event type -> stage it puts the BE in.
STAGE_OF_EVENT = {
    "icegate.bill-of-entry.filed.v1": "filed",
    "clearance.bill-of-entry.rejected.v1": "rejected",
    "clearance.bill-of-entry.registered.v1": "registered",
    "clearance.bis-verification.completed.v1": "bis_verified",
    "clearance.rms-decision.made.v1": "rms_decided",
    "clearance.seal-trip.reconciled.v1": "seal_reconciled",
    "clearance.out-of-charge.held.v1": "held",
    "clearance.out-of-charge.issued.v1": "out_of_charge",
    "custodian.e-gatepass.issued.v1": "out_of_charge",
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
