"""The RMS rule set as data: the default file, what an upload must satisfy, RMS-FAG-1 as a table."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from clearance_runtime.policies import InvalidPolicy, PolicyVersion
from rms_router.domain.rule_set import RULE_SET, RuleSet, parse_rule_set
from rms_router.testing import DEFAULT_RULE_SET, policies_of

pytestmark = pytest.mark.unit

DEFAULT: RuleSet = parse_rule_set(DEFAULT_RULE_SET["body"])

# RMS-FAG-1 (seed 002, Air Cargo Complex Mumbai): each line of the table, its first and
# last heading, its group and its National Assessment Centre.
FAG_TABLE = [
    ("2801", "2853", "2", "NAC Chemicals"),  # chapter 28
    ("3001", "3105", "2B", "NAC Chemicals"),  # chapters 30-31
    ("3201", "3407", "2C", "NAC Chemicals"),  # chapters 32-34
    ("3501", "3606", "2D", "NAC Chemicals"),  # chapters 35-36
    ("3801", "3827", "2F", "NAC Chemicals"),  # chapter 38
    ("4701", "4911", "2K", "NAC Chemicals"),  # chapters 47-49
    ("8401", "8469", "5", "NAC Mechanical Machineries"),
    ("8470", "8473", "5E", "NAC Mechanical Machineries"),
    ("8474", "8487", "5N", "NAC Mechanical Machineries"),
    ("8501", "8516", "5A", "NAC Electric Machineries"),
    ("8517", "8531", "5C", "NAC Electric Machineries"),
    ("8532", "8548", "5M", "NAC Electric Machineries"),
    ("8801", "8807", "5F", "NAC Automobile and Instruments & Miscellaneous Products"),  # ch. 88
    ("9001", "9209", "5I", "NAC Automobile and Instruments & Miscellaneous Products"),  # 90-92
    ("9301", "9806", "6", "NAC Automobile and Instruments & Miscellaneous Products"),  # 93-98
]


@pytest.mark.parametrize(("first", "last", "group", "centre"), FAG_TABLE)
def test_each_line_of_the_faceless_assessment_table(
    first: str, last: str, group: str, centre: str
) -> None:
    """RMS-FAG-1: both ends of the line's span go to its group and centre."""
    for heading in (first, last):
        line = DEFAULT.assessment_group(f"{heading}9090")
        assert line is not None, heading
        assert (line.group, line.centre) == (group, centre)


@pytest.mark.parametrize(
    "heading", ["0101", "2701", "2901", "3901", "7113", "8488", "8701", "9901"]
)
def test_headings_outside_the_table_have_no_group(heading: str) -> None:
    """RMS-FAG-1 lists some chapters only; the others go to the port's appraising group."""
    assert DEFAULT.assessment_group(f"{heading}1000") is None


def test_the_default_rule_set_is_read_by_the_policy_book() -> None:
    policy = policies_of().versions(RULE_SET.policy_id)[0]
    assert policy.version == 1
    assert policy.body.rules[0].id == "first-check-requested"
    assert {lane.id: lane.rate for lane in policy.body.lanes} == {
        "random-aeo-tier-2-3": 0.0,
        "random-aeo-tier-1": 0.04,
        "random-no-aeo": 0.08,
        "random-aeo-unreported": 0.0,
    }


def test_partner_agencies_by_tariff_line() -> None:
    assert DEFAULT.agencies_for("09041120") == ("FSSAI",)
    assert DEFAULT.agencies_for("08021200") == ("PQIS", "FSSAI")
    assert DEFAULT.agencies_for("30049099") == ("CDSCO",)
    assert DEFAULT.agencies_for("85258090") == ()


def _changed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = copy.deepcopy(DEFAULT_RULE_SET["body"])
    change(body)
    return body


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown part", lambda b: b.update(filters=[]), "unknown parts"),
    ("no forced outcome", lambda b: b["forced"].pop(), "no outcome for"),
    (
        "tamper without examination",
        lambda b: b["forced"][1]["then"].update(select=["scanning"]),
        "must select",
    ),
    (
        "reassessment without assessment",
        lambda b: b["forced"][2]["then"].update(select=["examination"]),
        "must select",
    ),
    ("duplicate id", lambda b: b["rules"][1].update(id="first-check-requested"), "used twice"),
    ("bad id", lambda b: b["rules"][0].update(id="First Check"), "lower-case"),
    ("unknown selection", lambda b: b["rules"][0]["then"].update(select=["hold"]), "select"),
    ("unknown rule cited", lambda b: b["rules"][0]["then"].update(cite="RMS-99"), "RULES.md"),
    ("rate above one", lambda b: b["random_interdiction"]["lanes"][0].update(rate=1.5), "rate"),
    ("rate as text", lambda b: b["random_interdiction"]["lanes"][0].update(rate="5%"), "rate"),
    ("bad condition", lambda b: b["rules"][0].update(when={"field": "be.colour"}), "unknown field"),
    (
        "overlapping groups",
        lambda b: b["assessment_groups"].append(
            {"group": "9", "centre": "NAC X", "headings": ["8530", "8540"]}
        ),
        "both cover",
    ),
    (
        "bad group code",
        lambda b: b["assessment_groups"][0].update(group="group two"),
        "appraising group",
    ),
    ("bad prefix", lambda b: b["partner_agencies"][0].update(prefixes=["0"]), "prefixes"),
    ("unknown field of a rule", lambda b: b["rules"][0].update(priority=1), "unknown fields"),
]


@pytest.mark.parametrize(
    ("change", "complaint"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_a_broken_rule_set_is_refused_with_the_reason(
    change: Callable[[dict[str, Any]], None], complaint: str
) -> None:
    body = _changed(change)
    with pytest.raises(ValueError, match=complaint):
        parse_rule_set(body)
    version = PolicyVersion.from_data({**DEFAULT_RULE_SET, "body": body})
    with pytest.raises(InvalidPolicy):  # what the administration API answers 422 with
        policies_of().typed(version, 2, "admin:test")
