"""Intake rules (pure): INTAKE-IEC-1, INTAKE-BE-2, and the status view's ordering."""

import pytest
from be_intake.domain.filing import rejection_reasons
from be_intake.domain.status import STAGE_OF_EVENT, STAGE_RANK, next_stage
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

VALID = {"iec": "AAACR1234E", "be_type": "H", "warehouse_code": None}


def test_a_valid_filing_has_no_rejection_reasons() -> None:
    assert rejection_reasons(VALID) == []


@pytest.mark.parametrize("iec", ["", "AAACR1234", "AAACR1234E1", "aaacr1234e", "AAACR-234E"])
def test_iec_must_be_ten_alphanumerics(iec: str) -> None:
    reasons = rejection_reasons({**VALID, "iec": iec})
    assert [r["rule_id"] for r in reasons] == ["INTAKE-IEC-1"]


def test_permanent_iec_of_exempt_categories_is_well_formed() -> None:
    # INTAKE-IEC-2: e.g. AMDCG0111E for central government is a valid IEC shape.
    assert rejection_reasons({**VALID, "iec": "AMDCG0111E"}) == []


def test_warehousing_be_must_declare_warehouse_code() -> None:
    reasons = rejection_reasons({**VALID, "be_type": "W"})
    assert [r["rule_id"] for r in reasons] == ["INTAKE-BE-2"]
    assert rejection_reasons({**VALID, "be_type": "W", "warehouse_code": "MAA4W001"}) == []


def test_all_reasons_are_reported_together() -> None:
    reasons = rejection_reasons({"iec": "bad", "be_type": "W"})
    assert [r["rule_id"] for r in reasons] == ["INTAKE-IEC-1", "INTAKE-BE-2"]


stages = st.sampled_from(sorted(set(STAGE_OF_EVENT.values())))


@given(st.lists(stages, min_size=1, max_size=12))
def test_status_never_moves_back_whatever_the_arrival_order(arrivals: list[str]) -> None:
    current = None
    for seen, stage in enumerate(arrivals, start=1):
        current = next_stage(current, stage)
        # The view always shows the furthest stage reached so far.
        assert STAGE_RANK[current] == max(STAGE_RANK[s] for s in arrivals[:seen])


def test_out_of_charge_wins_over_late_verdicts() -> None:
    assert next_stage("out_of_charge", "bis_verified") == "out_of_charge"
    assert next_stage("registered", "out_of_charge") == "out_of_charge"
