"""The RMS decision (pure): one test per kind of rule, the forced outcomes, the random
interdiction lanes, and the properties RMS-LANES-1 asks for."""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from clearance_domain import BillOfEntryRef, PolicyRef
from hypothesis import given, settings
from hypothesis import strategies as st
from rms_router.domain.decision import RmsDecision, decide, interdiction_draw
from rms_router.domain.facts import History, ItemFacts, RiskFacts
from rms_router.domain.rule_set import RuleSet, parse_rule_set
from rms_router.testing import (
    DEFAULT_RULE_SET,
    amendment,
    bill_of_entry,
    certificate,
    facts,
)

pytestmark = pytest.mark.unit

DEFAULT: RuleSet = parse_rule_set(DEFAULT_RULE_SET["body"])
V1 = PolicyRef("rms-rule-set", 1)


def decided(risk: RiskFacts, rule_set: RuleSet = DEFAULT, ref: PolicyRef = V1) -> RmsDecision:
    return decide(risk, rule_set, ref)


def rule_ids(decision: RmsDecision) -> list[str]:
    return [reason.rule_id for reason in decision.reasons]


def test_the_walking_skeleton_be_is_facilitated() -> None:
    """RMS-3, RMS-QUEUE-1, RMS-FAG-1: AEO T2 certificate, CCTV from China, no First Check."""
    decision = decided(facts(aeo=certificate("T2")))
    assert decision.facilitated
    assert (decision.outcome, decision.selections, decision.fired_rules) == ("facilitated", (), ())
    assert decision.assessment_group == "5C"
    assert rule_ids(decision) == ["RMS-FAG-1", "RMS-QUEUE-1"]
    assert all(reason.policy == V1 for reason in decision.reasons)
    assert decision.interdiction is not None
    assert decision.interdiction.lane == "random-aeo-tier-2-3"


def test_first_check_is_examination_before_assessment() -> None:
    """RMS-2."""
    decision = decided(facts(bill_of_entry(first_check=True), aeo=certificate("T2")))
    assert decision.selections == ("first_check", "assessment", "examination")
    assert decision.outcome == "examination"
    assert decision.fired_rules == ("first-check-requested",)
    assert decision.examination_instructions
    assert "First Check" in decision.examination_instructions


def test_a_failed_bis_verdict_forces_what_the_rule_set_says() -> None:
    """BIS-CRS-1, OOC-BIS-1: forced, whatever the conditions."""
    decision = decided(facts(aeo=certificate("T3"), verdict="failed"))
    assert decision.selections == ("assessment", "examination")
    assert decision.fired_rules == ("bis-verdict-failed",)
    assert rule_ids(decision)[0] == "BIS-CRS-1"


def test_a_seal_tampered_at_export_forces_examination() -> None:
    """SEAL-TAMPER-1."""
    decision = decided(facts(aeo=certificate("T2"), tampered=True))
    assert "examination" in decision.selections
    assert decision.fired_rules == ("seal-tampered-at-export",)


def test_an_amendment_that_invalidates_the_assessment_forces_assessment() -> None:
    """INTAKE-AMEND-1."""
    decision = decided(facts(version=2, aeo=certificate("T2"), amended=amendment(True)))
    assert decision.selections == ("assessment",)
    assert decision.fired_rules == ("amendment-invalidates-assessment",)
    unchanged = decided(facts(version=2, aeo=certificate("T2"), amended=amendment(False)))
    assert unchanged.facilitated


def test_conditional_bis_clearance_is_sampled_at_examination() -> None:
    """BIS-QCO-3, RMS-SAMPLE-1."""
    for risk in (facts(verdict="conditional"), facts(sampling=True)):
        decision = decided(risk)
        assert decision.selections == ("examination",)
        assert decision.fired_rules == ("bis-samples",)


def test_a_tariff_line_of_a_partner_agency_needs_its_noc() -> None:
    """RMS-3: one reason per item that needs a NOC, naming the agency."""
    be = bill_of_entry([("85258090", 900.0), ("09041120", 50.0), ("08021200", 70.0)])
    decision = decided(facts(be, aeo=certificate("T2")))
    assert decision.selections == ("pga_noc",)
    assert decision.outcome == "pga_noc"
    assert decision.partner_agencies == ("FSSAI", "PQIS")
    noc = [r for r in decision.reasons if r.rule_id == "RMS-3"]
    assert [r.item_sl_no for r in noc] == [2, 3]
    assert "FSSAI" in noc[0].message


def test_an_importer_with_discrepancies_is_examined_and_assessed() -> None:
    """RMS-1: the history rms-router keeps from its officers' results."""
    clean = facts(aeo=certificate("T2"), history=History(examinations=3))
    assert decided(clean).facilitated
    caught = facts(aeo=certificate("T2"), history=History(examinations=3, discrepancies=1))
    decision = decided(caught)
    assert decision.selections == ("assessment", "examination")
    assert decision.fired_rules == ("importer-discrepancy-history",)


@pytest.mark.parametrize(
    ("aeo", "value", "selected"),
    [
        (certificate("T2"), 25_000_000, False),
        (certificate("T1"), 25_000_000, True),
        (None, 20_000_000, True),
        (None, 19_999_999.99, False),
    ],
)
def test_a_high_value_self_assessment_is_verified(aeo: Any, value: float, selected: bool) -> None:
    """INTAKE-SA-1: from Rs 2 crore, unless the importer holds AEO T2/T3."""
    risk = facts(bill_of_entry(assessable_value=value), aeo=aeo)
    risk = replace(risk, ref=BillOfEntryRef("INNSA1", "7000001", date(2025, 3, 20)))
    decision = decided(risk, _without_random_interdiction())
    assert ("high-value-self-assessment" in decision.fired_rules) is selected


@pytest.mark.parametrize(
    ("cth", "rule", "selections"),
    [
        ("71081300", "precious-metals-and-stones", ("examination",)),
        ("93020000", "arms-and-ammunition", ("assessment", "examination")),
    ],
)
def test_goods_of_a_chapter_are_selected(cth: str, rule: str, selections: tuple[str, ...]) -> None:
    """RMS-1: a rule over the items' chapter; the reason names the item."""
    decision = decided(
        facts(bill_of_entry([("85258090", 10.0), (cth, 1.0)]), aeo=certificate("T2"))
    )
    assert decision.fired_rules == (rule,)
    assert decision.selections == selections
    assert decision.reasons[0].item_sl_no == 2


def test_containers_consigned_from_another_country_are_scanned() -> None:
    """RMS-3: scanning."""
    be = bill_of_entry(country_of_consignment="AE")
    decision = decided(facts(be, aeo=certificate("T1")), _without_random_interdiction())
    assert decision.selections == ("scanning",)
    assert decision.outcome == "scanning"
    assert decided(facts(be, aeo=certificate("T2"))).facilitated


def test_selections_combine_and_the_primary_lane_is_the_most_demanding() -> None:
    """RMS-3: several outcomes combine."""
    be = bill_of_entry([("71081300", 100.0), ("09041120", 1.0)], first_check=True)
    decision = decided(facts(be, aeo=certificate("T2"), verdict="failed"))
    assert decision.selections == ("first_check", "assessment", "examination", "pga_noc")
    assert decision.outcome == "examination"
    assert decision.fired_rules == (
        "bis-verdict-failed",
        "first-check-requested",
        "partner-agency-noc",
        "precious-metals-and-stones",
    )


def test_the_assessment_group_follows_the_most_valuable_item() -> None:
    """RMS-FAG-1."""
    decision = decided(facts(bill_of_entry([("95030020", 10.0), ("85044090", 900.0)])))
    assert decision.assessment_group == "5A"
    unlisted = decided(facts(bill_of_entry([("27011200", 10.0)])))
    assert unlisted.assessment_group is None
    [fag] = [r for r in unlisted.reasons if r.rule_id == "RMS-FAG-1"]
    assert "appraising group of the port" in fag.message


# RMS-LANES-1: random interdiction.


def _without_random_interdiction() -> RuleSet:
    body = copy.deepcopy(DEFAULT_RULE_SET["body"])
    body["random_interdiction"]["lanes"] = []
    return parse_rule_set(body)


@functools.cache
def _with_rate(rate: float) -> RuleSet:
    return parse_rule_set(_body_with_rate(rate))


def _body_with_rate(rate: float) -> dict[str, Any]:
    body = copy.deepcopy(DEFAULT_RULE_SET["body"])
    body["random_interdiction"]["lanes"] = [
        {**lane, "rate": rate} for lane in body["random_interdiction"]["lanes"]
    ]
    return body


def test_the_lane_is_the_first_that_holds_and_an_interdiction_names_it() -> None:
    chosen = _with_rate(1.0)
    decision = decided(facts(aeo=None), chosen)
    assert decision.interdiction is not None
    assert decision.interdiction.lane == "random-no-aeo"
    assert decision.fired_rules == ("random-no-aeo",)
    assert decision.selections == ("examination",)
    [reason] = [r for r in decision.reasons if r.rule_id == "RMS-LANES-1"]
    assert "100.00%" in reason.message
    assert decided(facts(aeo=certificate("T1")), chosen).interdiction.lane == "random-aeo-tier-1"  # type: ignore[union-attr]
    assert decided(facts(), chosen).interdiction.lane == "random-aeo-unreported"  # type: ignore[union-attr]


def test_the_local_default_never_interdicts_aeo_tier_2_3_or_unreported_importers() -> None:
    """The e2e BEs are deterministic: their lanes have a rate of 0 (README)."""
    lanes = [facts(aeo=certificate("T2")), facts(aeo=certificate("T3")), facts()]
    for n in range(500):
        ref = BillOfEntryRef("INNSA1", f"{n:07d}", date(2025, 3, 20))
        for risk in lanes:
            assert decided(replace(risk, ref=ref)).facilitated


def test_the_draw_depends_on_identity_version_and_rule_set_version_only() -> None:
    ref = BillOfEntryRef("INNSA1", "2345678", date(2025, 3, 20), 1)
    draw = interdiction_draw(ref, 1)
    assert 0 <= draw < 1
    assert interdiction_draw(ref, 1) == draw
    assert interdiction_draw(ref.at_version(2), 1) != draw
    assert interdiction_draw(ref, 2) != draw
    assert interdiction_draw(replace(ref, be_no="2345679"), 1) != draw


def _generated(count: int, seed: int = 0) -> list[RiskFacts]:
    """Distinct BE versions across ports, days and numbers (the facts otherwise alike)."""
    base = facts(aeo=None)
    ports = ("INNSA1", "INMUN1", "INMAA1", "INBOM4", "INDEL4", "INBLR4")
    start = date(2025, 1, 1)
    return [
        replace(
            base,
            ref=BillOfEntryRef(
                ports[n % len(ports)],
                f"{(seed * 7_919 + n * 104_729) % 10**7:07d}",
                start + timedelta(days=n % 365),
                1 + n % 3,
            ),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("rate", [0.02, 0.08, 0.5])
def test_the_observed_interdiction_rate_is_within_binomial_bounds(rate: float) -> None:
    """RMS-LANES-1: over 10,000 generated BEs the share interdicted is the configured rate,
    within the binomial bounds (mean +- 4 standard deviations: a false alarm once in
    15,000 runs for a fair draw; the draw is deterministic, so it is once or never)."""
    rule_set = _with_rate(rate)
    bills = _generated(10_000)
    assert len({risk.ref for risk in bills}) == 10_000
    interdicted = sum(1 for risk in bills if "random-no-aeo" in decided(risk, rule_set).fired_rules)
    n = len(bills)
    spread = 4 * math.sqrt(n * rate * (1 - rate))
    assert n * rate - spread <= interdicted <= n * rate + spread, interdicted


_CTHS = st.sampled_from(
    ["85258090", "09041120", "71081300", "93020000", "95030020", "30049099", "28151110", "84795000"]
)


@st.composite
def risk_facts(draw: st.DrawFn) -> RiskFacts:
    items = draw(st.lists(st.tuples(_CTHS, st.integers(1, 10**6)), min_size=1, max_size=6))
    return RiskFacts(
        ref=BillOfEntryRef(
            draw(st.sampled_from(["INNSA1", "INBOM4", "INMAA1"])),
            f"{draw(st.integers(0, 10**7 - 1)):07d}",
            draw(st.dates(date(2020, 1, 1), date(2030, 12, 31))),
            draw(st.integers(1, 9)),
        ),
        iec="AAGCS4417M",
        be_type=draw(st.sampled_from(["H", "W"])),
        mode_of_transport="S",
        first_check=draw(st.booleans()),
        prior_be=False,
        customs_broker_code=None,
        country_of_origin="CN",
        country_of_consignment=draw(st.sampled_from(["CN", "AE", None])),
        port_of_shipment=None,
        containerised=draw(st.booleans()),
        assessable_value=Decimal(draw(st.integers(0, 10**9))) / 100,
        total_duty=Decimal(draw(st.integers(0, 10**8))) / 100,
        items=tuple(
            ItemFacts(n, cth, "CN", Decimal(value)) for n, (cth, value) in enumerate(items, 1)
        ),
        aeo_status=draw(st.sampled_from(["T1", "T2", "T3", "LO", "none", "unreported"])),
        history=History(discrepancies=draw(st.integers(0, 2))),
        bis_verdict=draw(st.sampled_from(["passed", "failed", "conditional", "not_applicable"])),
        assessment_invalidated=draw(st.booleans()),
        tampered_at_export=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(risk_facts(), st.integers(1, 5), st.floats(0, 1))
def test_the_same_be_version_and_rule_set_version_always_get_the_same_decision(
    risk: RiskFacts, rule_set_version: int, rate: float
) -> None:
    """RMS-LANES-1: decided again, or replayed from the recorded facts, it is the same."""
    rule_set = _with_rate(round(rate, 3))
    ref = PolicyRef("rms-rule-set", rule_set_version)
    first = decide(risk, rule_set, ref)
    assert decide(risk, rule_set, ref) == first
    assert decide(RiskFacts.from_data(risk.to_data()), rule_set, ref) == first
    again = parse_rule_set(_body_with_rate(round(rate, 3)))
    assert decide(risk, again, ref) == first  # the rule set read again
