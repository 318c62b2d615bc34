"""The condition language of the rule set: JSON predicates, checked, compiled, never run as code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rms_router.domain.conditions import FIELDS, compile_condition

pytestmark = pytest.mark.unit


def facts(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(FIELDS)
    base.update({name.replace("__", "."): value for name, value in fields.items()})
    base.setdefault("items", [])
    return base


def item(**fields: Any) -> dict[str, Any]:
    return {f"item.{name}": value for name, value in fields.items()}


def holds(condition: Any, **fields: Any) -> bool:
    return compile_condition(condition)(facts(**fields), None)


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"eq": "T2"}, "T2", True),
        ({"eq": "T2"}, "T1", False),
        ({"ne": "T2"}, "T1", True),
        ({"ne": "T2"}, None, True),
        ({"in": ["T2", "T3"]}, "T3", True),
        ({"in": ["T2", "T3"]}, None, False),
        ({"not_in": ["T2", "T3"]}, "none", True),
        ({"not_in": ["T2", "T3"]}, None, True),
        ({"exists": True}, None, False),
        ({"exists": False}, None, True),
        ({"eq": None}, None, True),
        ({"starts_with": "T"}, "T1", True),
        ({"starts_with": ["L", "n"]}, "none", True),
        ({"starts_with": "T"}, None, False),
        ({"between": ["T1", "T3"]}, "T2", True),
    ],
)
def test_text_comparisons(condition: dict[str, Any], value: Any, expected: bool) -> None:
    assert (
        holds({"field": "importer.aeo_status", **condition}, importer__aeo_status=value) is expected
    )


@pytest.mark.parametrize(
    ("operator", "bound", "value", "expected"),
    [
        ("ge", 20_000_000, Decimal("20000000"), True),
        ("ge", 20_000_000, Decimal("19999999.99"), False),
        ("gt", 1.5, Decimal("1.51"), True),
        ("lt", 1.5, Decimal("1.5"), False),
        ("le", 1.5, Decimal("1.5"), True),
        ("between", [10, 20], Decimal("20"), True),
        ("between", [10, 20], Decimal("20.01"), False),
        ("ge", 0, None, False),
    ],
)
def test_numbers_compare_as_decimals(operator: str, bound: Any, value: Any, expected: bool) -> None:
    condition = {"field": "value.assessable_inr", operator: bound}
    assert holds(condition, value__assessable_inr=value) is expected


def test_combinators() -> None:
    yes = {"field": "be.first_check", "eq": True}
    no = {"not": yes}
    assert holds({"all": [yes]}, be__first_check=True)
    assert holds({"all": []}, be__first_check=False)  # nothing to contradict
    assert not holds({"any": []}, be__first_check=True)
    assert holds({"any": [no, yes]}, be__first_check=True)
    assert not holds({"all": [no, yes]}, be__first_check=True)


def test_item_quantifiers_read_each_item() -> None:
    toys = {"any_item": {"field": "item.heading", "eq": "9503"}}
    all_chinese = {"all_items": {"field": "item.country_of_origin", "eq": "CN"}}
    agencies = {"any_item": {"field": "item.partner_agencies", "contains": "FSSAI"}}
    some = [
        item(heading="9503", country_of_origin="CN", partner_agencies=()),
        item(heading="8525", country_of_origin="VN", partner_agencies=("FSSAI",)),
    ]
    assert compile_condition(toys)(facts(items=some), None)
    assert not compile_condition(all_chinese)(facts(items=some), None)
    assert compile_condition(all_chinese)(facts(items=[]), None)  # vacuous
    assert compile_condition(agencies)(facts(items=some), None)
    empty = {"any_item": {"field": "item.partner_agencies", "empty": False}}
    assert not compile_condition(empty)(facts(items=[some[0]]), None)


@pytest.mark.parametrize(
    ("condition", "complaint"),
    [
        ({"field": "importer.tier", "eq": "T2"}, "unknown field"),
        ({"field": "item.cth", "eq": "85258090"}, "inside any_item"),
        ({"any_item": {"any_item": {"field": "item.cth", "eq": "1"}}}, "do not nest"),
        ({"field": "value.assessable_inr", "ge": "lots"}, "not a number"),
        ({"field": "be.version", "eq": 1.5}, "not a whole number"),
        ({"field": "be.first_check", "eq": "yes"}, "not true or false"),
        ({"field": "be.first_check", "lt": 1}, "only numbers and text"),
        ({"field": "be.first_check", "eq": True, "ne": False}, "needs one operator"),
        ({"field": "importer.iec", "matches": ".*"}, "needs one operator"),
        ({"all": {"field": "be.first_check"}}, "a list of conditions"),
        ({"eval": "__import__('os')"}, "has one operator"),
        ({"field": "be.port_code", "contains": "IN"}, "reads list fields"),
        ({"field": "value.duty_inr", "between": [2, 1]}, "above high"),
        ("be.first_check == True", "JSON object"),
    ],
)
def test_a_bad_condition_is_refused_with_the_reason(condition: Any, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        compile_condition(condition)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2), st.integers(0, 10**9))
def test_ge_and_lt_partition_every_value(value: Decimal, bound: int) -> None:
    ge = {"field": "value.duty_inr", "ge": bound}
    lt = {"field": "value.duty_inr", "lt": bound}
    assert holds(ge, value__duty_inr=value) != holds(lt, value__duty_inr=value)
