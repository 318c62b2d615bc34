"""When a BE may be let out of charge (pure): OOC-AUTO-1, OOC-BIS-1, OOC-WH-1."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from clearance_domain import AeoTier, BeType, BillOfEntryRef
from hypothesis import given
from hypothesis import strategies as st
from ooc_issuer.domain.case import Facts, decide
from ooc_issuer.domain.facts import (
    BisOutcome,
    BisVerdict,
    Registered,
    RmsDecision,
    SealReconciliation,
)

pytestmark = pytest.mark.unit

REF = BillOfEntryRef("INNSA1", "2345678", date(2025, 3, 20), 1)
REGISTERED = Registered(
    ref=REF,
    be_type=BeType.HOME_CONSUMPTION,
    iec="AAGCS4417M",
    importer_name="SECURUS VISION SYSTEMS PRIVATE LIMITED",
    aeo_tier=AeoTier.T2,
    warehouse_code=None,
    containers=(),
    duty_claimed_paid=True,
    duty_claimed_deferred_otp=False,
)


def _facts(
    *, bis: str = "passed", rms: str = "facilitated", seal: str | None = None, **registered: Any
) -> Facts:
    return Facts(
        registered=dataclasses.replace(REGISTERED, **registered),
        bis=BisVerdict(REF, BisOutcome(bis), ()),
        rms=RmsDecision(REF, rms, ()),
        seal=None if seal is None else SealReconciliation(REF, seal, ()),
    )


def test_aeo_tier_2_facilitated_paid_be_is_cleared_automatically() -> None:
    decision = decide(_facts())
    assert decision.issue
    assert decision.reasons[0].rule_id == "OOC-AUTO-1"
    assert decision.reasons[0].source_document


def test_nothing_is_missing_once_the_three_facts_are_in() -> None:
    facts = _facts()
    assert facts.missing() == []
    facts.rms = None
    assert facts.missing() == ["rms"]


def test_warehousing_be_waits_for_its_seal() -> None:
    facts = _facts(be_type=BeType.WAREHOUSING)
    assert facts.missing() == ["seal"]
    assert decide(_facts(be_type=BeType.WAREHOUSING, seal="matched")).issue


def test_mismatched_seal_holds_a_warehousing_be() -> None:
    decision = decide(_facts(be_type=BeType.WAREHOUSING, seal="tampered"))
    assert not decision.issue
    assert "OOC-WH-1" in [r.rule_id for r in decision.reasons]


def test_deferred_duty_authenticated_by_otp_allows_automatic_ooc() -> None:
    assert decide(_facts(duty_claimed_paid=False, duty_claimed_deferred_otp=True)).issue


@pytest.mark.parametrize(
    ("facts", "rule_id"),
    [
        (_facts(bis="failed"), "OOC-BIS-1"),
        (_facts(rms="examination"), "OOC-AUTO-1"),
        (_facts(aeo_tier=AeoTier.T1), "OOC-AUTO-1"),
        (_facts(aeo_tier=None), "OOC-AUTO-1"),
        (_facts(duty_claimed_paid=False), "OOC-AUTO-1"),
    ],
)
def test_each_unmet_condition_holds_the_be_with_its_rule(facts: Facts, rule_id: str) -> None:
    decision = decide(facts)
    assert not decision.issue
    assert rule_id in [r.rule_id for r in decision.reasons]


@given(
    tier=st.sampled_from([AeoTier.T1, AeoTier.T2, AeoTier.T3, None]),
    verdict=st.sampled_from(["passed", "failed", "conditional", "not_applicable"]),
    outcome=st.sampled_from(["facilitated", "assessment", "examination", "scanning", "pga_noc"]),
    paid=st.booleans(),
)
def test_automatic_ooc_only_when_every_condition_holds(
    tier: AeoTier | None, verdict: str, outcome: str, paid: bool
) -> None:
    decision = decide(_facts(aeo_tier=tier, bis=verdict, rms=outcome, duty_claimed_paid=paid))
    allowed = tier in {AeoTier.T2, AeoTier.T3} and verdict != "failed"
    assert decision.issue is (allowed and outcome == "facilitated" and paid)
