"""When a BE may be let out of charge (pure): OOC-AUTO-1, OOC-BIS-1, OOC-WH-1."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ooc_issuer.domain.clearance import decide, facts_from, missing_facts

pytestmark = pytest.mark.unit


def _facts(**overrides: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "registered": {
            "be_type": "H",
            "aeo_tier": "T2",
            "duty": {"paid": True, "deferred_payment_otp_authenticated": False},
        },
        "bis": {"verdict": "passed", "findings": []},
        "rms": {"outcome": "facilitated", "reasons": []},
    }
    for name, value in overrides.items():
        facts[name] = {**facts.get(name, {}), **value}
    return facts


def test_aeo_tier_2_facilitated_paid_be_is_cleared_automatically() -> None:
    decision = decide(_facts())
    assert decision is not None
    assert decision.issue
    assert decision.reasons[0]["rule_id"] == "OOC-AUTO-1"


def test_nothing_is_decided_while_facts_are_missing() -> None:
    facts = _facts()
    del facts["rms"]
    assert decide(facts) is None
    assert missing_facts(facts) == ["rms"]


def test_warehousing_be_waits_for_its_seal() -> None:
    facts = _facts(registered={"be_type": "W"})
    assert missing_facts(facts) == ["seal"]
    assert decide(facts) is None
    cleared = decide({**facts, "seal": {"outcome": "matched", "findings": []}})
    assert cleared is not None
    assert cleared.issue


def test_mismatched_seal_holds_a_warehousing_be() -> None:
    facts = _facts(registered={"be_type": "W"}, seal={"outcome": "tampered", "findings": []})
    decision = decide(facts)
    assert decision is not None
    assert not decision.issue
    assert "OOC-WH-1" in [r["rule_id"] for r in decision.reasons]


def test_deferred_duty_authenticated_by_otp_allows_automatic_ooc() -> None:
    duty = {"paid": False, "deferred_payment_otp_authenticated": True}
    decision = decide(_facts(registered={"duty": duty}))
    assert decision is not None
    assert decision.issue


@pytest.mark.parametrize(
    ("overrides", "rule_id"),
    [
        ({"bis": {"verdict": "failed", "findings": []}}, "OOC-BIS-1"),
        ({"rms": {"outcome": "examination"}}, "OOC-AUTO-1"),
        ({"registered": {"aeo_tier": "T1"}}, "OOC-AUTO-1"),
        ({"registered": {"aeo_tier": None}}, "OOC-AUTO-1"),
        ({"registered": {"duty": {"paid": False}}}, "OOC-AUTO-1"),
    ],
)
def test_each_unmet_condition_holds_the_be_with_its_rule(
    overrides: dict[str, Any], rule_id: str
) -> None:
    decision = decide(_facts(**overrides))
    assert decision is not None
    assert not decision.issue
    assert rule_id in [r["rule_id"] for r in decision.reasons]


@given(
    tier=st.sampled_from(["T1", "T2", "T3", None]),
    verdict=st.sampled_from(["passed", "failed", "conditional", "not_applicable"]),
    outcome=st.sampled_from(["facilitated", "assessment", "examination", "scanning", "pga_noc"]),
    paid=st.booleans(),
)
def test_automatic_ooc_only_when_every_condition_holds(
    tier: str | None, verdict: str, outcome: str, paid: bool
) -> None:
    facts = _facts(
        registered={"aeo_tier": tier, "duty": {"paid": paid}},
        bis={"verdict": verdict},
        rms={"outcome": outcome},
    )
    decision = decide(facts)
    assert decision is not None
    allowed = tier in {"T2", "T3"} and verdict != "failed" and outcome == "facilitated" and paid
    assert decision.issue is allowed


def test_the_bis_verdict_also_brings_the_registered_facts() -> None:
    data = {
        "bill_of_entry": {"be_type": "W", "iec": "AAGCS4417M", "aeo_tier": "T3", "extra": 1},
        "verdict": "passed",
        "findings": [],
    }
    facts = facts_from("clearance.bis-verification.completed.v1", data)
    assert facts["registered"]["be_type"] == "W"
    assert facts["registered"]["aeo_tier"] == "T3"
    assert "extra" not in facts["registered"]
    assert facts["bis"] == {"verdict": "passed", "findings": []}
