"""Bills of Entry, events and rule sets for tests of rms-router (and replays), from the
contract examples and the shipped rule set."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from clearance_contracts import BILL_OF_ENTRY_REGISTERED, BIS_VERIFICATION_COMPLETED, example
from clearance_domain import BillOfEntryRef
from clearance_runtime.policies import Policies, in_memory

from rms_router.bootstrap import POLICIES
from rms_router.domain.facts import History, RiskFacts, registration_part, verification_part
from rms_router.domain.rule_set import RULE_SET

DEFAULT_RULE_SET: dict[str, Any] = dict(
    json.loads((POLICIES / "rms-rule-set.v1.json").read_text(encoding="utf-8"))
)


def policies_of(*versions: Mapping[str, Any]) -> Policies:
    """A policy book of rule-set versions (default: the shipped file)."""
    return in_memory([RULE_SET], versions or [DEFAULT_RULE_SET])


REGISTERED = example(BILL_OF_ENTRY_REGISTERED)
ABSENT = "absent"


def certificate(tier: str, iec: str = "AAGCS4417M") -> dict[str, Any]:
    return {
        "certificate_no": f"INAAGCS4417M{tier}",
        "iec": iec,
        "tier": tier,
        "valid_from": "2023-01-01",
        "valid_to": "2027-12-31",
    }


def bill_of_entry(items: list[tuple[str, float]] | None = None, **overrides: Any) -> dict[str, Any]:
    """The example BE (AEO T2 claim, CCTV cameras from China, Rs 76.9 lakh), changed."""
    be: dict[str, Any] = copy.deepcopy(REGISTERED["bill_of_entry"])
    if items is not None:
        template = be["invoices"][0]["items"][0]
        be["invoices"] = [be["invoices"][0]]
        be["invoices"][0]["items"] = [
            {**template, "item_sl_no": n, "cth": cth, "quantity": 1, "unit_price": value}
            for n, (cth, value) in enumerate(items, start=1)
        ]
        be["supporting_documents"] = []
    duty = overrides.pop("assessable_value", None)
    if duty is not None:
        be["duty"] = {**be["duty"], "assessable_value": duty}
    be.update(overrides)
    return be


def ref_of(be: dict[str, Any], version: int = 1) -> BillOfEntryRef:
    return BillOfEntryRef.from_data({**be, "version": version})


def registered(
    be: dict[str, Any],
    version: int = 1,
    aeo: Any = ABSENT,
    amendment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "bill_of_entry_ref": ref_of(be, version).to_data(),
        "bill_of_entry": be,
        "registered_at": "2025-03-20T10:42:19+05:30",
    }
    if aeo != ABSENT:
        data["aeo_certificate"] = aeo
    if amendment is not None:
        data["amendment"] = amendment
    return data


def amendment(assessment_invalidated: bool = True, number: int = 1) -> dict[str, Any]:
    return {
        "amendment_no": number,
        "changed_elements": ["duty.assessable_value"],
        "assessment_invalidated": assessment_invalidated,
        "after_out_of_charge": False,
    }


def verified(
    be: dict[str, Any], version: int = 1, verdict: str = "not_applicable"
) -> dict[str, Any]:
    data = copy.deepcopy(example(BIS_VERIFICATION_COMPLETED))
    data.update(
        bill_of_entry_ref=ref_of(be, version).to_data(),
        bill_of_entry=be,
        verdict=verdict,
        findings=[],
    )
    return data


def facts(
    be: dict[str, Any] | None = None,
    *,
    version: int = 1,
    aeo: Any = ABSENT,
    verdict: str = "not_applicable",
    history: History | None = None,
    tampered: bool = False,
    amended: dict[str, Any] | None = None,
    sampling: bool = False,
) -> RiskFacts:
    be = be or bill_of_entry()
    bis = verification_part(verified(be, version, verdict))
    bis["sampling"] = sampling
    return RiskFacts.of(
        ref_of(be, version),
        be,
        registration_part(registered(be, version, aeo, amended)),
        bis,
        history,
        tampered_at_export=tampered,
    )
