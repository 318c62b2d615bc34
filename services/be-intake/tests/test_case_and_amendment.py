"""The case's status and notices, and what an amendment changes (pure; STATUS-1,
INTAKE-AMEND-1, INTAKE-AMEND-2)."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from be_intake.domain.amendment import changed_elements, evidence_reasons, touches_assessment
from be_intake.domain.case import IntakeCase, Notice, filer_of
from be_intake.domain.status import NOTICE_CODES, Status
from clearance_contracts import example
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit
AT = datetime(2025, 3, 20, 12, tzinfo=UTC)


def test_every_status_has_its_own_two_digit_code() -> None:
    codes = [NOTICE_CODES[status] for status in Status]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 2 and code.isdigit() for code in codes)
    # The codes CDS has for the same notices (STATUS-1).
    assert (Status.ACCEPTED.code, Status.REJECTED.code, Status.RELEASED.code) == ("01", "03", "08")
    assert (Status.INVALIDATED.code, Status.GOODS_EXITED.code) == ("10", "16")


def test_the_filer_is_the_broker_or_the_importer_filing_directly() -> None:
    assert filer_of("AABCJ2231PCH001", "AAGCS4417M") == "AABCJ2231PCH001"
    assert filer_of("SELFSUBMITCH001", "AAGCS4417M") == "AAGCS4417M"
    assert filer_of(None, "AAGCS4417M") == "AAGCS4417M"


def _registered(duty: str = "1000", be_type: str = "H") -> IntakeCase:
    case = IntakeCase("INNSA1", "2345678", date(2025, 3, 20))
    case.register(
        version=1, filer="AABCJ2231PCH001", iec="AAGCS4417M", be_type=be_type,
        consigned_from="CN", transport="S", lodged_at=AT, presented_on=date(2025, 3, 20),
        aeo=None, aeo_claim=None, igm=None, master_bills=[],
        self_assessed_duty=Decimal(duty), at=AT,
    )  # fmt: skip
    return case


def _statuses(case: IntakeCase) -> list[str]:
    return [e.status.value for e in case.events if isinstance(e, Notice)]


def test_a_home_consumption_be_goes_from_accepted_through_duty_due_to_released() -> None:
    case = _registered()
    case.record_fact("rms", 1, {"outcome": "facilitated", "selections": [], "reasons": []}, AT)
    case.record_payment({"reference": "C1", "amount": "1000", "mode": "neft_rtgs", "at": "x"}, AT)
    case.record_out_of_charge(1, "INNSA1-OOC-1", "INNSA1-GP-1", AT, ())
    case.record_gate_out(AT)
    assert _statuses(case) == ["accepted", "duty_due", "paid", "gatepass_issued", "goods_exited"]


def test_examination_and_hold_put_the_be_under_an_officers_control() -> None:
    case = _registered()
    case.record_fact("rms", 1, {"outcome": "examination", "selections": ["examination"]}, AT)
    assert case.status is Status.EXAMINATION_ORDERED
    case.record_fact("examination", 1, {"outcome": "no_discrepancy", "reasons": []}, AT)
    case.record_fact("held", 1, {"outcome": None, "reasons": []}, AT)
    assert case.status is Status.UNDER_CONTROL


def test_a_warehousing_be_owes_no_duty_at_intake() -> None:
    """INTAKE-BE-2: duty deferred under the warehousing provisions."""
    case = _registered(be_type="W")
    case.record_fact("rms", 1, {"outcome": "facilitated", "selections": []}, AT)
    assert case.status is Status.ASSESSED


def test_no_invalidation_after_out_of_charge() -> None:
    """INTAKE-PRIOR-1 never undoes a release."""
    case = _registered()
    case.record_out_of_charge(1, "OOC", None, AT, ())
    assert case.invalidate(AT, ()) is False
    assert case.status is Status.RELEASED


def test_the_case_survives_storage() -> None:
    case = _registered()
    case.record_payment({"reference": "C1", "amount": "10.5", "mode": "neft_rtgs", "at": "x"}, AT)
    again = IntakeCase.from_data(case.identity, case.to_data())
    assert again.to_data() == case.to_data()
    assert again.total_paid == Decimal("10.5")


FILED = example("icegate.bill-of-entry.filed.v1")


def test_changed_elements_are_json_paths() -> None:
    after = copy.deepcopy(FILED)
    after["invoices"][0]["items"][2]["quantity"] = 401
    after["importer_name"] = "X"
    assert changed_elements(FILED, after) == ["importer_name", "invoices[0].items[2].quantity"]
    after["invoices"][0]["items"].pop()
    assert "invoices[0].items" in changed_elements(FILED, after)


@pytest.mark.parametrize(
    ("path", "element"),
    [
        ("invoices[0].invoice_value", True),  # value
        ("invoices[0].items[1].cth", True),  # classification
        ("invoices[0].items[1].quantity", True),  # quantity
        ("invoices[0].items[1].country_of_origin", True),  # origin
        ("duty.total_duty", True),  # stands for an exemption claimed
        ("importer_address", False),
        ("containers[0].seal_no", False),
    ],
)
def test_elements_of_assessment(path: str, element: bool) -> None:
    """INTAKE-AMEND-1: value, CTH, exemption, quantity, origin."""
    assert touches_assessment([path]) is element


def test_after_clearance_evidence_must_have_existed_then() -> None:
    """INTAKE-AMEND-2."""
    cleared = date(2025, 3, 21)
    assert [r.rule_id for r in evidence_reasons([], cleared)] == ["INTAKE-AMEND-2"]
    before = {"reference": "INV-1", "issued_on": "2025-03-03"}
    after = {"reference": "INV-2", "issued_on": "2025-03-25"}
    assert evidence_reasons([before], cleared) == []
    assert len(evidence_reasons([before, after], cleared)) == 1


@given(st.dictionaries(st.sampled_from("abcde"), st.integers(0, 3)), st.sampled_from("abcde"))
def test_a_change_is_found_where_it_is_made(before: dict[str, int], key: str) -> None:
    after = {**before, key: before.get(key, 0) + 1}
    assert changed_elements(before, after) == [key]
    assert changed_elements(before, before) == []
