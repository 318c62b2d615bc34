"""The edge of ooc-issuer: contract data in, typed facts out; typed events in, contract data out.

A fact is kept in the case as the part of its contract event the case needs (same shape,
so one parser reads both the event and what was stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from clearance_contracts import (
    ASSESSMENT_COMPLETED,
    BILL_OF_ENTRY_INVALIDATED,
    BILL_OF_ENTRY_REGISTERED,
    BIS_SAMPLE_CONCLUDED,
    BIS_VERIFICATION_COMPLETED,
    DUTY_PAYMENT_RECORDED,
    E_GATEPASS_ISSUED,
    EXAMINATION_COMPLETED,
    GATE_OUT_REPORTED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    PGA_NOC_RECORDED,
    RE_EXPORT_ORDERED,
    RMS_DECISION_MADE,
    SEAL_TRIP_RECONCILED,
)
from clearance_domain import AeoTier, BeType, BillOfEntryRef, Reason
from clearance_domain.reasons import reasons_data

from ooc_issuer.domain.case import (
    CaseEvent,
    CaseState,
    Issued,
    OutOfChargeHeld,
    OutOfChargeIssued,
    ReExportOrdered,
)
from ooc_issuer.domain.facts import (
    AeoCertificate,
    Amendment,
    Assessment,
    BisOutcome,
    BisVerdict,
    DutyPayment,
    Examination,
    ExaminationOutcome,
    Fact,
    GateOut,
    GatepassContainer,
    Invalidation,
    Officer,
    PgaNoc,
    Registered,
    RmsDecision,
    SampleResult,
    SealReconciliation,
)
from ooc_issuer.domain.release import SaleRestriction

FACT_EVENTS = (
    BILL_OF_ENTRY_REGISTERED,
    DUTY_PAYMENT_RECORDED,
    BILL_OF_ENTRY_INVALIDATED,
    BIS_VERIFICATION_COMPLETED,
    BIS_SAMPLE_CONCLUDED,
    RMS_DECISION_MADE,
    ASSESSMENT_COMPLETED,
    EXAMINATION_COMPLETED,
    PGA_NOC_RECORDED,
    SEAL_TRIP_RECONCILED,
    GATE_OUT_REPORTED,
)
# The RMS lane when an older decision carries no `selections` (RMS-3).
_LANE_SELECTIONS = {
    "facilitated": frozenset(),
    "assessment": frozenset({"assessment"}),
    "examination": frozenset({"examination"}),
    "scanning": frozenset({"scanning"}),
    "pga_noc": frozenset({"pga_noc"}),
}


def _reasons(data: Any) -> tuple[Reason, ...]:
    return tuple(Reason.from_data(reason) for reason in data or ())


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _officer(data: Mapping[str, Any]) -> Officer:
    return Officer(str(data["officer_id"]), str(data["location"]))


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def registered_of(data: Mapping[str, Any]) -> Registered:
    ref = BillOfEntryRef.from_data(data["bill_of_entry_ref"])
    be = data["bill_of_entry"]
    certificate = data.get("aeo_certificate")
    amendment = data.get("amendment")
    tier = be.get("aeo_tier")
    return Registered(
        ref=ref,
        be_type=BeType(be["be_type"]),
        iec=be["iec"],
        importer_name=be.get("importer_name") or "",
        claimed_aeo_tier=AeoTier(tier) if tier else None,
        aeo_certificate=AeoCertificate(
            certificate["certificate_no"],
            certificate["iec"],
            certificate["tier"],
            date.fromisoformat(certificate["valid_from"]),
            date.fromisoformat(certificate["valid_to"]),
        )
        if certificate
        else None,
        amendment=Amendment(
            int(amendment["amendment_no"]),
            bool(amendment["assessment_invalidated"]),
            bool(amendment["after_out_of_charge"]),
        )
        if amendment
        else None,
        self_assessed_duty=_money(be["duty"]["total_duty"]),
        warehouse_code=be.get("warehouse_code"),
        custodian_code=be.get("custodian_code"),
        customs_broker_code=be.get("customs_broker_code"),
        importer_address=be.get("importer_address"),
        containers=tuple(
            GatepassContainer(c["container_no"], c["seal_no"]) for c in be.get("containers") or ()
        ),
        igm=be.get("igm"),
        house_bills=tuple(be.get("house_bills") or ()),
    )


def fact_of(event_type: str, data: Mapping[str, Any]) -> Fact:
    """The fact an event (or what the case kept of it) carries."""
    ref = BillOfEntryRef.from_data(data["bill_of_entry_ref"])
    if event_type == BILL_OF_ENTRY_REGISTERED:
        return registered_of(data)
    if event_type == BIS_VERIFICATION_COMPLETED:
        sampling = data.get("sampling") or {}
        return BisVerdict(
            ref,
            BisOutcome(data["verdict"]),
            _reasons(data["findings"]),
            tuple(sampling.get("items") or ()),
        )
    if event_type == RMS_DECISION_MADE:
        selections = data.get("selections")
        return RmsDecision(
            ref,
            data["outcome"],
            frozenset(selections)
            if selections is not None
            else _LANE_SELECTIONS.get(data["outcome"], frozenset({data["outcome"]})),
            _reasons(data["reasons"]),
        )
    if event_type == SEAL_TRIP_RECONCILED:
        return SealReconciliation(ref, data["outcome"], _reasons(data["findings"]))
    if event_type == ASSESSMENT_COMPLETED:
        return Assessment(
            ref,
            data["outcome"],
            _money(data["assessed_duty"]),
            _officer(data["officer"]),
            _at(data["assessed_at"]),
        )
    if event_type == EXAMINATION_COMPLETED:
        return Examination(
            ref,
            ExaminationOutcome(data["outcome"]),
            _reasons(data["findings"]),
            tuple(data["samples"]),
            _officer(data["officer"]),
            _at(data["examined_at"]),
        )
    if event_type == PGA_NOC_RECORDED:
        return PgaNoc(
            ref,
            data["agency"],
            data["outcome"] == "granted",
            data["reference"],
            _at(data["recorded_at"]),
        )
    if event_type == DUTY_PAYMENT_RECORDED:
        return DutyPayment(
            ref,
            data["kind"],
            _money(data["amount"]),
            _money(data["total_paid"]),
            data["reference"],
            _at(data["recorded_at"]),
        )
    if event_type == BIS_SAMPLE_CONCLUDED:
        return SampleResult(
            ref,
            data["outcome"] == "conforming",
            data["laboratory"],
            data["report_no"],
            _reasons(data["reasons"]),
            _at(data["concluded_at"]),
        )
    if event_type == BILL_OF_ENTRY_INVALIDATED:
        return Invalidation(ref, _reasons(data["reasons"]), _at(data["invalidated_at"]))
    if event_type == GATE_OUT_REPORTED:
        return GateOut(ref, data["gatepass_no"], data["custodian_code"], _at(data["exited_at"]))
    raise KeyError(f"ooc-issuer takes no facts from {event_type}")


def _officer_data(officer: Officer) -> dict[str, str]:
    return {"officer_id": officer.officer_id, "location": officer.location}


def fact_data(fact: Fact) -> tuple[str, dict[str, Any]]:
    """(event type, the part of the event the case keeps): what `fact_of` reads back."""
    ref = fact.ref.to_data()
    match fact:
        case Registered():
            certificate = fact.aeo_certificate
            amendment = fact.amendment
            be = {
                "be_type": fact.be_type.value,
                "iec": fact.iec,
                "importer_name": fact.importer_name,
                "aeo_tier": fact.claimed_aeo_tier.value if fact.claimed_aeo_tier else None,
                "warehouse_code": fact.warehouse_code,
                "custodian_code": fact.custodian_code,
                "customs_broker_code": fact.customs_broker_code,
                "importer_address": fact.importer_address,
                "containers": [
                    {"container_no": c.container_no, "seal_no": c.seal_no} for c in fact.containers
                ],
                "igm": fact.igm,
                "house_bills": list(fact.house_bills),
                "duty": {"total_duty": float(fact.self_assessed_duty)},
            }
            return BILL_OF_ENTRY_REGISTERED, {
                "bill_of_entry_ref": ref,
                "bill_of_entry": be,
                "aeo_certificate": {
                    "certificate_no": certificate.certificate_no,
                    "iec": certificate.iec,
                    "tier": certificate.tier,
                    "valid_from": certificate.valid_from.isoformat(),
                    "valid_to": certificate.valid_to.isoformat(),
                }
                if certificate
                else None,
                "amendment": {
                    "amendment_no": amendment.amendment_no,
                    "changed_elements": [],
                    "assessment_invalidated": amendment.assessment_invalidated,
                    "after_out_of_charge": amendment.after_out_of_charge,
                }
                if amendment
                else None,
            }
        case BisVerdict():
            return BIS_VERIFICATION_COMPLETED, {
                "bill_of_entry_ref": ref,
                "verdict": fact.verdict.value,
                "findings": reasons_data(list(fact.findings)),
                "sampling": {"items": list(fact.sampled_items)} if fact.sampled_items else None,
            }
        case RmsDecision():
            return RMS_DECISION_MADE, {
                "bill_of_entry_ref": ref,
                "outcome": fact.outcome,
                "selections": sorted(fact.selections),
                "reasons": reasons_data(list(fact.reasons)),
            }
        case SealReconciliation():
            return SEAL_TRIP_RECONCILED, {
                "bill_of_entry_ref": ref,
                "outcome": fact.outcome,
                "findings": reasons_data(list(fact.findings)),
            }
        case Assessment():
            return ASSESSMENT_COMPLETED, {
                "bill_of_entry_ref": ref,
                "outcome": fact.outcome,
                "assessed_duty": float(fact.assessed_duty),
                "officer": _officer_data(fact.officer),
                "assessed_at": fact.assessed_at.isoformat(),
            }
        case Examination():
            return EXAMINATION_COMPLETED, {
                "bill_of_entry_ref": ref,
                "outcome": fact.outcome.value,
                "findings": reasons_data(list(fact.findings)),
                "samples": list(fact.samples),
                "officer": _officer_data(fact.officer),
                "examined_at": fact.examined_at.isoformat(),
            }
        case PgaNoc():
            return PGA_NOC_RECORDED, {
                "bill_of_entry_ref": ref,
                "agency": fact.agency,
                "outcome": "granted" if fact.granted else "refused",
                "reference": fact.reference,
                "recorded_at": fact.recorded_at.isoformat(),
            }
        case DutyPayment():
            return DUTY_PAYMENT_RECORDED, {
                "bill_of_entry_ref": ref,
                "kind": fact.kind,
                "amount": float(fact.amount),
                "total_paid": float(fact.total_paid),
                "reference": fact.reference,
                "recorded_at": fact.recorded_at.isoformat(),
            }
        case SampleResult():
            return BIS_SAMPLE_CONCLUDED, {
                "bill_of_entry_ref": ref,
                "outcome": "conforming" if fact.conforming else "non_conforming",
                "laboratory": fact.laboratory,
                "report_no": fact.report_no,
                "reasons": reasons_data(list(fact.reasons)),
                "concluded_at": fact.concluded_at.isoformat(),
            }
        case Invalidation():
            return BILL_OF_ENTRY_INVALIDATED, {
                "bill_of_entry_ref": ref,
                "reasons": reasons_data(list(fact.reasons)),
                "invalidated_at": fact.invalidated_at.isoformat(),
            }
        case GateOut():
            return GATE_OUT_REPORTED, {
                "bill_of_entry_ref": ref,
                "gatepass_no": fact.gatepass_no,
                "custodian_code": fact.custodian_code,
                "exited_at": fact.exited_at.isoformat(),
            }


# --- what ooc-issuer publishes ---------------------------------------------------------------


def conditions_data(restriction: SaleRestriction | None) -> list[dict[str, Any]]:
    if restriction is None:
        return []
    return [
        {
            "condition": "sale_restricted",
            "until": "laboratory_result",
            "items": list(restriction.items),
            "reason": restriction.reason.to_data(),
        }
    ]


def e_ooc_path(ref: BillOfEntryRef) -> str:
    return f"/e-ooc/{ref.key}"


def issued_data(ref: BillOfEntryRef, issued: Issued) -> dict[str, Any]:
    data: dict[str, Any] = {
        "bill_of_entry_ref": ref.to_data(),
        "ooc_no": issued.out_of_charge_no,
        "gatepass_no": issued.gatepass_no,
        "mode": issued.mode.value,
        "reasons": reasons_data(list(issued.reasons)),
        "issued_at": issued.at.isoformat(),
        "conditions": conditions_data(issued.restriction),
        "document": {
            "url": e_ooc_path(ref),
            "key_id": issued.key_id,
            "verification_url": "/e-ooc/verification",
        },
    }
    if issued.officer is not None:
        data["officer"] = _officer_data(issued.officer)
    return data


def gatepass_data(event: OutOfChargeIssued) -> dict[str, Any]:
    """OOC-GP-1: what the custodian's gate needs."""
    be, issued = event.registered, event.issued
    ref = event.ref.to_data()
    return {
        "gatepass_no": issued.gatepass_no,
        "bill_of_entry_ref": ref,
        "ooc_no": issued.out_of_charge_no,
        "custodian_code": issued.custodian_code,
        "iec": be.iec,
        "importer_name": be.importer_name or None,
        "importer_address": be.importer_address,
        "customs_broker_code": be.customs_broker_code,
        "warehouse_code": be.warehouse_code,
        "igm": dict(be.igm) if be.igm else None,
        "house_bills": [dict(bill) for bill in be.house_bills],
        "containers": [
            {
                "container_no": c.container_no,
                "seal_no": c.seal_no,
                "qr": f"EGP1|{issued.gatepass_no}|{c.container_no}|{c.seal_no}|"
                f"{issued.out_of_charge_no}",
            }
            for c in be.containers
        ],
        "package_count": be.package_count,
        "mode": issued.mode.value,
        "conditions": conditions_data(issued.restriction),
        "document_qr": issued.document_token,
        "ooc_at": issued.at.isoformat(),
        "issued_at": issued.at.isoformat(),
    }


def held_data(event: OutOfChargeHeld) -> dict[str, Any]:
    status = {
        CaseState.HELD: "queued",
        CaseState.REFUSED: "refused",
        CaseState.CONDITIONALLY_CLEARED: "conditionally_cleared",
    }[event.status]
    data: dict[str, Any] = {
        "bill_of_entry_ref": event.ref.to_data(),
        "reasons": reasons_data(list(event.reasons)),
        "held_at": event.at.isoformat(),
        "status": status,
        "grantable": event.grantable,
    }
    if event.officer is not None:
        data["officer"] = _officer_data(event.officer)
    return data


def rendered(event: CaseEvent) -> list[tuple[str, dict[str, Any]]]:
    """The contract events (type, data) a case event is published as (the e-Gatepass goes
    to its custodian's topic: see `handlers.render_events`)."""
    match event:
        case OutOfChargeHeld():
            return [(OUT_OF_CHARGE_HELD, held_data(event))]
        case ReExportOrdered():
            return [
                (
                    RE_EXPORT_ORDERED,
                    {
                        "bill_of_entry_ref": event.ref.to_data(),
                        "order": "re_export",
                        "reasons": reasons_data(list(event.reasons)),
                        "ordered_at": event.at.isoformat(),
                    },
                )
            ]
        case OutOfChargeIssued():
            issued = [(OUT_OF_CHARGE_ISSUED, issued_data(event.ref, event.issued))]
            if event.issued.custodian_code is None:
                return issued
            return [*issued, (E_GATEPASS_ISSUED, gatepass_data(event))]
