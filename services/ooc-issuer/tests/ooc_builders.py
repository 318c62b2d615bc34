"""Contract-shaped facts for ooc-issuer's tests, from the contracts' examples."""

from __future__ import annotations

import copy
from typing import Any

from clearance_contracts import (
    ASSESSMENT_COMPLETED,
    BILL_OF_ENTRY_INVALIDATED,
    BILL_OF_ENTRY_REGISTERED,
    BIS_SAMPLE_CONCLUDED,
    BIS_VERIFICATION_COMPLETED,
    DUTY_PAYMENT_RECORDED,
    EXAMINATION_COMPLETED,
    GATE_OUT_REPORTED,
    PGA_NOC_RECORDED,
    RMS_DECISION_MADE,
    SEAL_TRIP_RECONCILED,
    example,
)

Fact = tuple[str, dict[str, Any]]
BE_NO = "2345678"
DUTY = 2881666.87  # the example BE's self-assessed duty


def _ref(data: dict[str, Any], version: int, be_no: str) -> dict[str, Any]:
    data["bill_of_entry_ref"].update(version=version, be_no=be_no, be_date="2025-03-20")
    return data


def certificate(tier: str = "T2", iec: str = "AAGCS4417M") -> dict[str, Any]:
    return {
        "certificate_no": f"INAAGCS4417M{tier}F2024",
        "iec": iec,
        "tier": tier,
        "valid_from": "2024-01-01",
        "valid_to": "2026-12-31",
    }


def registered(
    version: int = 1,
    *,
    tier: str | None = "T2",
    claimed: str | None = "T2",
    be_type: str = "H",
    invalidates_assessment: bool = False,
    custodian_code: str | None = "INNSA1CFS2",
    be_no: str = BE_NO,
    variant: str = "default",
) -> Fact:
    data = _ref(copy.deepcopy(example(BILL_OF_ENTRY_REGISTERED, variant)), version, be_no)
    be = data["bill_of_entry"]
    be.update(be_no=be_no, be_date="2025-03-20", aeo_tier=claimed, be_type=be_type)
    be["custodian_code"] = custodian_code
    if be_type == "W":
        be["warehouse_code"] = be.get("warehouse_code") or "MUM4W017"
    data["aeo_certificate"] = certificate(tier) if tier else None
    if version > 1:
        data["amendment"] = {
            "amendment_no": version - 1,
            "changed_elements": ["invoice_value"]
            if invalidates_assessment
            else ["importer_address"],
            "assessment_invalidated": invalidates_assessment,
            "after_out_of_charge": False,
        }
    return BILL_OF_ENTRY_REGISTERED, data


def bis(
    version: int = 1, verdict: str = "passed", sampled: tuple[int, ...] = (), be_no: str = BE_NO
) -> Fact:
    data = _ref(copy.deepcopy(example(BIS_VERIFICATION_COMPLETED)), version, be_no)
    data["bill_of_entry"].update(be_no=be_no, be_date="2025-03-20")
    data["verdict"] = verdict
    if verdict == "failed":
        data["findings"] = [
            {
                "rule_id": "BIS-CRS-2",
                "message": "registration R-41087785 is Cancelled",
                "item_sl_no": 1,
            }
        ]
    if sampled:
        data["sampling"] = {
            "items": list(sampled),
            "reason": {"rule_id": "BIS-QCO-3", "message": "toys sampled for NABL testing"},
        }
    return BIS_VERIFICATION_COMPLETED, data


def rms(version: int = 1, *selections: str, be_no: str = BE_NO) -> Fact:
    data = _ref(copy.deepcopy(example(RMS_DECISION_MADE)), version, be_no)
    lane = next((s for s in selections if s != "first_check"), "examination" if selections else "")
    data["outcome"] = lane or "facilitated"
    data["selections"] = list(selections)
    return RMS_DECISION_MADE, data


def paid(total: float = DUTY, reference: str = "CHLN-1", be_no: str = BE_NO) -> Fact:
    data = _ref(copy.deepcopy(example(DUTY_PAYMENT_RECORDED)), 1, be_no)
    data.update(
        kind="paid", amount=total, mode="internet_banking", reference=reference, total_paid=total
    )
    return DUTY_PAYMENT_RECORDED, data


def deferred(amount: float = DUTY, be_no: str = BE_NO) -> Fact:
    data = _ref(copy.deepcopy(example(DUTY_PAYMENT_RECORDED)), 1, be_no)
    return DUTY_PAYMENT_RECORDED, data | {"amount": amount}


def assessed(
    version: int = 1, duty: float = DUTY, at: str = "2025-03-20T11:00:00+05:30", be_no: str = BE_NO
) -> Fact:
    data = _ref(copy.deepcopy(example(ASSESSMENT_COMPLETED)), version, be_no)
    data.update(
        assessed_duty=duty, assessed_at=at, outcome="reassessed" if duty != DUTY else "confirmed"
    )
    return ASSESSMENT_COMPLETED, data


def examined(
    outcome: str = "no_discrepancy",
    samples: tuple[int, ...] = (),
    at: str = "2025-03-20T15:10:00+05:30",
    be_no: str = BE_NO,
) -> Fact:
    data = _ref(copy.deepcopy(example(EXAMINATION_COMPLETED)), 1, be_no)
    data.update(outcome=outcome, samples=list(samples), examined_at=at)
    return EXAMINATION_COMPLETED, data


def noc(granted: bool = True, agency: str = "WPC", be_no: str = BE_NO) -> Fact:
    data = _ref(copy.deepcopy(example(PGA_NOC_RECORDED)), 1, be_no)
    data.update(agency=agency, outcome="granted" if granted else "refused")
    return PGA_NOC_RECORDED, data


def seal(outcome: str = "matched", version: int = 1, be_no: str = BE_NO) -> Fact:
    data = _ref(copy.deepcopy(example(SEAL_TRIP_RECONCILED)), version, be_no)
    data["outcome"] = outcome
    return SEAL_TRIP_RECONCILED, data


def sample(conforming: bool, be_no: str = BE_NO) -> Fact:
    data = _ref(copy.deepcopy(example(BIS_SAMPLE_CONCLUDED)), 1, be_no)
    data["outcome"] = "conforming" if conforming else "non_conforming"
    return BIS_SAMPLE_CONCLUDED, data


def invalidated(be_no: str = BE_NO) -> Fact:
    return BILL_OF_ENTRY_INVALIDATED, _ref(
        copy.deepcopy(example(BILL_OF_ENTRY_INVALIDATED)), 1, be_no
    )


def gate_out(gatepass_no: str, custodian_code: str = "INNSA1CFS2", be_no: str = BE_NO) -> Fact:
    data = _ref(copy.deepcopy(example(GATE_OUT_REPORTED)), 1, be_no)
    data.update(gatepass_no=gatepass_no, custodian_code=custodian_code)
    return GATE_OUT_REPORTED, data
