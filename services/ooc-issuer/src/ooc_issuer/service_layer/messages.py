"""The edge of ooc-issuer: contract data in, typed facts out; typed events in, contract data out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clearance_contracts import (
    BIS_VERIFICATION_COMPLETED,
    E_GATEPASS_ISSUED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RMS_DECISION_MADE,
    SEAL_TRIP_RECONCILED,
)
from clearance_domain import AeoTier, BeType, BillOfEntryRef, Reason
from clearance_domain.reasons import reasons_data

from ooc_issuer.domain.case import CaseEvent, OutOfChargeHeld, OutOfChargeIssued
from ooc_issuer.domain.facts import (
    BisOutcome,
    BisVerdict,
    Fact,
    GatepassContainer,
    Registered,
    RmsDecision,
    SealReconciliation,
)


def _reasons(data: Any) -> tuple[Reason, ...]:
    return tuple(Reason.from_data(reason) for reason in data)


def registered_of(ref: BillOfEntryRef, be: Mapping[str, Any]) -> Registered:
    tier = be.get("aeo_tier")
    duty = be["duty"]
    return Registered(
        ref=ref,
        be_type=BeType(be["be_type"]),
        iec=be["iec"],
        importer_name=be.get("importer_name") or "",
        aeo_tier=AeoTier(tier) if tier else None,
        warehouse_code=be.get("warehouse_code"),
        containers=tuple(
            GatepassContainer(c["container_no"], c["seal_no"]) for c in be.get("containers") or ()
        ),
        duty_claimed_paid=bool(duty["paid"]),
        duty_claimed_deferred_otp=bool(duty["deferred_payment_otp_authenticated"]),
    )


def facts_of(event_type: str, data: Mapping[str, Any]) -> list[Fact]:
    """The facts an event carries (the BIS verdict carries the registered BE too)."""
    ref = BillOfEntryRef.from_data(data["bill_of_entry_ref"])
    if event_type == BIS_VERIFICATION_COMPLETED:
        verdict = BisVerdict(ref, BisOutcome(data["verdict"]), _reasons(data["findings"]))
        return [registered_of(ref, data["bill_of_entry"]), verdict]
    if event_type == RMS_DECISION_MADE:
        return [RmsDecision(ref, data["outcome"], _reasons(data["reasons"]))]
    if event_type == SEAL_TRIP_RECONCILED:
        return [SealReconciliation(ref, data["outcome"], _reasons(data["findings"]))]
    raise KeyError(f"ooc-issuer takes no facts from {event_type}")


FACT_EVENTS = (BIS_VERIFICATION_COMPLETED, RMS_DECISION_MADE, SEAL_TRIP_RECONCILED)


def rendered(event: CaseEvent) -> list[tuple[str, dict[str, Any]]]:
    """The contract events (type, data) a case event is published as."""
    ref = event.ref.to_data()
    at = event.at.isoformat()
    if isinstance(event, OutOfChargeHeld):
        return [
            (
                OUT_OF_CHARGE_HELD,
                {
                    "bill_of_entry_ref": ref,
                    "reasons": reasons_data(list(event.reasons)),
                    "held_at": at,
                },
            )
        ]
    return [
        (
            OUT_OF_CHARGE_ISSUED,
            {
                "bill_of_entry_ref": ref,
                "ooc_no": event.out_of_charge_no,
                "gatepass_no": event.gatepass_no,
                "mode": "automatic",
                "reasons": reasons_data(list(event.reasons)),
                "issued_at": at,
            },
        ),
        (E_GATEPASS_ISSUED, _gatepass(event, ref, at)),
    ]


def _gatepass(event: OutOfChargeIssued, ref: dict[str, Any], at: str) -> dict[str, Any]:
    be = event.registered
    return {
        "gatepass_no": event.gatepass_no,
        "bill_of_entry_ref": ref,
        "ooc_no": event.out_of_charge_no,
        "iec": be.iec,
        "importer_name": be.importer_name,
        "warehouse_code": be.warehouse_code,
        "containers": [
            {"container_no": c.container_no, "seal_no": c.seal_no} for c in be.containers
        ],
        "package_count": None,
        "issued_at": at,
    }
