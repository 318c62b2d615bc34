"""Intake rules (pure): INTAKE-IEC-1, INTAKE-BE-2, and the status view's ordering."""

from __future__ import annotations

from typing import Any

import pytest
from be_intake.domain.filing import rejection_reasons
from be_intake.domain.status import STAGE_OF_EVENT, STAGE_RANK, Status, next_status
from clearance_contracts import example
from clearance_domain import BillOfEntry
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

FILED = example("icegate.bill-of-entry.filed.v1")


def _be(**changes: Any) -> BillOfEntry:
    return BillOfEntry.from_data({**FILED, **changes})


def _rules(**changes: Any) -> list[str]:
    return [reason.rule_id for reason in rejection_reasons(_be(**changes))]


def test_a_valid_filing_has_no_rejection_reasons() -> None:
    assert _rules() == []


@pytest.mark.parametrize("iec", ["", "AAACR1234", "AAACR1234E1", "aaacr1234e", "AAACR-234E"])
def test_iec_must_be_ten_alphanumerics(iec: str) -> None:
    assert _rules(iec=iec) == ["INTAKE-IEC-1"]


def test_permanent_iec_of_exempt_categories_is_well_formed() -> None:
    # INTAKE-IEC-2: e.g. AMDCG0111E for central government is a valid IEC shape.
    assert _rules(iec="AMDCG0111E") == []


def test_warehousing_be_must_declare_warehouse_code() -> None:
    assert _rules(be_type="W", warehouse_code=None) == ["INTAKE-BE-2"]
    assert _rules(be_type="W", warehouse_code="MAA4W001") == []


def test_all_reasons_are_reported_together() -> None:
    assert _rules(iec="bad", be_type="W", warehouse_code=None) == ["INTAKE-IEC-1", "INTAKE-BE-2"]


stages = st.sampled_from(sorted(set(STAGE_OF_EVENT.values())))


@given(st.lists(stages, min_size=1, max_size=12))
def test_status_never_moves_back_whatever_the_arrival_order(arrivals: list[str]) -> None:
    current: Status | None = None
    for seen, stage in enumerate(arrivals, start=1):
        current = next_status(current, Status(stage, 1, stage == "out_of_charge"))
        # The view always shows the furthest stage reached so far.
        assert STAGE_RANK[current.stage] == max(STAGE_RANK[s] for s in arrivals[:seen])


@given(st.lists(st.tuples(stages, st.integers(1, 3)), min_size=1, max_size=12))
def test_the_view_shows_the_newest_version_unless_out_of_charge(
    arrivals: list[tuple[str, int]],
) -> None:
    current: Status | None = None
    for stage, version in arrivals:
        current = next_status(current, Status(stage, version, stage == "out_of_charge"))
    assert current is not None
    assert current.version == max(version for _, version in arrivals)
    if any(stage == "out_of_charge" for stage, _ in arrivals):
        assert current.stage == "out_of_charge"


def test_out_of_charge_wins_over_late_verdicts() -> None:
    ooc = Status("out_of_charge", 1, True)
    assert next_status(ooc, Status("bis_verified", 1)).stage == "out_of_charge"
    assert next_status(Status("registered", 1), ooc).stage == "out_of_charge"
