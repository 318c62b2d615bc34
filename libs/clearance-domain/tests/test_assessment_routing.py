"""RMS-FAG-1 routing, the one pure function rms-router (decisions) and be-intake (the ICES
acknowledgement's appraising group) share."""

from __future__ import annotations

from decimal import Decimal

import pytest
from clearance_domain.assessment_routing import (
    AssessmentRouting,
    RoutedItem,
    principal_item,
    routed_items,
)

pytestmark = pytest.mark.unit

TABLE = [
    {"group": "5C", "centre": "NAC Electric Machineries", "headings": ["8517", "8531"]},
    {"group": "5I", "centre": "NAC Instruments", "chapters": ["90", "92"]},
]


def test_rms_fag_1_the_principal_items_heading_decides_the_group() -> None:
    routing = AssessmentRouting.parse(TABLE)
    items = [
        RoutedItem(1, "85299090", Decimal("100")),
        RoutedItem(2, "90069100", Decimal("250")),
        RoutedItem(3, "85258090", Decimal("250")),  # a tie: the first filed wins
    ]
    principal, line = routing.route(items)
    assert principal == items[1]
    assert line is not None
    assert line.group == "5I"
    assert routing.route(items[:1])[1] == routing.group_of("8529")
    assert routing.route([RoutedItem(1, "39269099", Decimal("1"))])[1] is None
    assert routing.route([]) == (None, None)
    assert principal_item([]) is None


def test_rms_fag_1_the_published_form_reads_back_to_the_same_table() -> None:
    routing = AssessmentRouting.parse(TABLE)
    assert AssessmentRouting.from_data(routing.to_data()) == routing
    assert routing.to_data()[1]["first_heading"] == "9000"
    assert routing.to_data()[1]["last_heading"] == "9299"


@pytest.mark.parametrize(
    "line",
    [
        {"group": "group two", "centre": "x", "chapters": ["28"]},
        {"group": "2", "centre": "x", "chapters": ["28"], "headings": ["2801"]},
        {"group": "2", "centre": "x", "chapters": ["2"]},
        {"group": "2", "centre": "x", "headings": ["2901", "2801"]},
        {"group": "2", "centre": "x", "chapters": ["28"], "colour": "red"},
        {"group": "2", "centre": "x", "headings": ["8520", "8520"]},  # overlaps 5C
    ],
)
def test_a_table_that_cannot_route_is_refused(line: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        AssessmentRouting.parse([*TABLE, line])


def test_the_items_of_a_contract_bill_of_entry_are_valued_quantity_times_unit_price() -> None:
    be = {
        "invoices": [
            {"items": [{"item_sl_no": 1, "cth": "85299090", "quantity": 3, "unit_price": 2.5}]},
            {"items": [{"item_sl_no": 2, "cth": "90069100", "quantity": 1, "unit_price": 7}]},
        ]
    }
    assert routed_items(be) == (
        RoutedItem(1, "85299090", Decimal("7.5")),
        RoutedItem(2, "90069100", Decimal("7")),
    )
