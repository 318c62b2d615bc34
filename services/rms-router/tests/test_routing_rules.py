"""RMS routing (pure): RMS-2, RMS-FAG-1, RMS-QUEUE-1."""

import copy

import pytest
from clearance_contracts import example
from clearance_domain import BillOfEntry
from hypothesis import given
from hypothesis import strategies as st
from rms_router.domain.routing import assessment_group, decide

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("cth", "group"),
    [
        ("28011000", "2"),
        ("30049099", "2B"),
        ("33049990", "2C"),
        ("38089199", "2F"),
        ("48025590", "2K"),
        ("84149011", "5"),
        ("84819090", "5N"),
        ("84713010", "5E"),
        ("85044090", "5A"),
        ("85258090", "5C"),  # CCTV cameras
        ("85423100", "5M"),
        ("88073000", "5F"),
        ("90183990", "5I"),
        ("95030020", "6"),  # non-electronic toys
        ("01012100", None),
    ],
)
def test_faceless_assessment_group_follows_the_heading(cth: str, group: str | None) -> None:
    assert assessment_group(cth) == group


FILED = example("icegate.bill-of-entry.filed.v1")


def _be(cth_values: list[tuple[str, float]], first_check: bool = False) -> BillOfEntry:
    data = copy.deepcopy(FILED)
    item = data["invoices"][0]["items"][0]
    data["invoices"] = [data["invoices"][0]]
    data["invoices"][0]["items"] = [
        {**item, "item_sl_no": n, "cth": cth, "quantity": 1, "unit_price": value}
        for n, (cth, value) in enumerate(cth_values, start=1)
    ]
    return BillOfEntry.from_data({**data, "first_check": first_check})


def test_first_check_sends_the_be_to_examination() -> None:
    decision = decide(_be([("85258090", 100.0)], first_check=True))
    assert decision.outcome == "examination"
    assert decision.queued_for_examination
    assert decision.reasons[0].rule_id == "RMS-2"


def test_facilitated_be_is_routed_to_the_group_of_its_most_valuable_item() -> None:
    decision = decide(_be([("95030020", 10.0), ("85258090", 900.0)]))
    assert decision.outcome == "facilitated"
    assert decision.assessment_group == "5C"
    assert [r.rule_id for r in decision.reasons] == ["RMS-QUEUE-1", "RMS-FAG-1"]


@given(st.from_regex(r"\A[0-9]{8}\Z"))
def test_every_tariff_item_gets_a_decision_citing_fag(cth: str) -> None:
    decision = decide(_be([(cth, 1.0)]))
    assert decision.outcome in {"facilitated", "examination"}
    assert any(r.rule_id == "RMS-FAG-1" for r in decision.reasons)
