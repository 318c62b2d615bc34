"""When a Bill of Entry may be let out of charge (pure).

ooc-issuer is the join point: it collects, per BE, the facts other services
publish and decides the moment they are complete.

OOC-AUTO-1: automatic OOC for AEO Tier 2/3 importers when the BE is not
selected for examination, scanning or PGA NOC, assessment is complete, and
duty is paid or deferred by OTP. OOC-BIS-1: never while a BIS check failed.
OOC-WH-1: a warehousing BE needs its seal matched to the declared warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clearance_contracts import (
    BIS_VERIFICATION_COMPLETED,
    RMS_DECISION_MADE,
    SEAL_TRIP_RECONCILED,
)

AUTOMATIC_TIERS = {"T2", "T3"}
WAREHOUSING = "W"

# Fact name -> the event type that carries it.
# The events ooc-issuer joins. The BIS verdict carries the registered BE, so it
# gives two facts: the BE is registered (with what OOC needs of it) and its verdict.
FACT_OF_EVENT = {
    BIS_VERIFICATION_COMPLETED: "bis",
    RMS_DECISION_MADE: "rms",
    SEAL_TRIP_RECONCILED: "seal",
}
_KEPT_OF_BE = (
    "be_type",
    "iec",
    "importer_name",
    "aeo_tier",
    "warehouse_code",
    "containers",
    "duty",
)


def facts_from(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an event ooc-issuer keeps, under its fact name."""
    fact = FACT_OF_EVENT[event_type]
    if fact == "bis":
        be = data["bill_of_entry"]
        return {
            "registered": {key: be.get(key) for key in _KEPT_OF_BE},
            "bis": {"verdict": data["verdict"], "findings": data["findings"]},
        }
    if fact == "rms":
        return {fact: {"outcome": data["outcome"], "reasons": data["reasons"]}}
    return {fact: {"outcome": data["outcome"], "findings": data["findings"]}}


@dataclass(frozen=True)
class Decision:
    issue: bool  # True: out of charge now; False: held for an officer
    reasons: list[dict[str, Any]] = field(default_factory=list)


def _reason(rule_id: str, message: str) -> dict[str, Any]:
    return {"rule_id": rule_id, "message": message}


def missing_facts(facts: Mapping[str, Any]) -> list[str]:
    needed = ["registered", "bis", "rms"]
    registered = facts.get("registered")
    if registered and registered["be_type"] == WAREHOUSING:
        needed.append("seal")
    return [name for name in needed if name not in facts]


def _duty_settled(be: Mapping[str, Any]) -> bool:
    if be["be_type"] == WAREHOUSING:
        return True  # INTAKE-BE-2: duty deferred under the warehousing provisions
    duty = be.get("duty") or {}
    return bool(duty.get("paid") or duty.get("deferred_payment_otp_authenticated"))


def decide(facts: Mapping[str, Any]) -> Decision | None:
    """Out of charge, held (with rule-cited reasons), or None while facts are missing."""
    if missing_facts(facts):
        return None
    be, bis, rms = facts["registered"], facts["bis"], facts["rms"]
    blockers: list[dict[str, Any]] = []
    if bis["verdict"] == "failed":
        blockers.append(_reason("OOC-BIS-1", "a BIS check failed"))
        blockers += bis["findings"]
    if rms["outcome"] != "facilitated":
        blockers.append(_reason("OOC-AUTO-1", f"selected for {rms['outcome']} by RMS"))
    if be.get("aeo_tier") not in AUTOMATIC_TIERS:
        tier = be.get("aeo_tier") or "none"
        blockers.append(_reason("OOC-AUTO-1", f"AEO tier {tier}: automatic OOC is for T2/T3"))
    if not _duty_settled(be):
        blockers.append(_reason("OOC-AUTO-1", "duty neither paid nor deferred by OTP"))
    seal = facts.get("seal")
    if be["be_type"] == WAREHOUSING and seal and seal["outcome"] != "matched":
        blockers.append(_reason("OOC-WH-1", f"seal reconciliation: {seal['outcome']}"))
        blockers += seal["findings"]
    if blockers:
        return Decision(issue=False, reasons=blockers)
    reasons = [_reason("OOC-AUTO-1", "AEO tier, RMS facilitation and duty allow automatic OOC")]
    if be["be_type"] == WAREHOUSING:
        reasons.append(_reason("OOC-WH-1", "seal matched to the declared warehouse"))
    if bis["verdict"] == "conditional":
        reasons.append(_reason("OOC-BIS-1", "conditional: sale restricted until tests pass"))
    return Decision(issue=True, reasons=reasons)
