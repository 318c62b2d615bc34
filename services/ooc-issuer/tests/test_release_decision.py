"""The release decision as a table over every combination of facts, and properties:
order and duplication of facts never change the outcome (OOC-AUTO-1, OOC-EXAM-1,
OOC-BIS-1, OOC-WH-1, OOC-CCV-1, BIS-QCO-3, INTAKE-AMEND-1)."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from clearance_domain import AeoTier, BeType, BillOfEntryRef
from hypothesis import given, settings
from hypothesis import strategies as st
from ooc_issuer.domain.case import CaseError, CaseState, ClearanceCase
from ooc_issuer.domain.facts import (
    AeoCertificate,
    Assessment,
    BisOutcome,
    BisVerdict,
    DutyPayment,
    Examination,
    ExaminationOutcome,
    Fact,
    Officer,
    PgaNoc,
    Registered,
    RmsDecision,
    SampleResult,
    SealReconciliation,
)
from ooc_issuer.domain.release import Mode, ReleaseFacts, decide

pytestmark = pytest.mark.unit

REF = BillOfEntryRef("INNSA1", "2345678", date(2025, 3, 20), 1)
DUTY = Decimal("1000.00")
OFFICER = Officer("officer.innsa1.appraiser-07", "INNSA1")
T = datetime(2025, 3, 20, 10, tzinfo=UTC)


def _at(hour: int) -> datetime:
    return T.replace(hour=hour)


@functools.cache
def _registered(certificate: str, be_type: BeType = BeType.HOME_CONSUMPTION) -> Registered:
    tier = {"T2": "T2", "T3": "T3", "T1": "T1", "expired": "T2", "none": None}[certificate]
    valid_to = date(2025, 1, 1) if certificate == "expired" else date(2026, 12, 31)
    return Registered(
        ref=REF,
        be_type=be_type,
        iec="AAGCS4417M",
        importer_name="SECURUS VISION SYSTEMS PRIVATE LIMITED",
        claimed_aeo_tier=AeoTier.T3,
        aeo_certificate=AeoCertificate("CERT-1", "AAGCS4417M", tier, date(2024, 1, 1), valid_to)
        if tier
        else None,
        amendment=None,
        self_assessed_duty=DUTY,
        warehouse_code="MUM4W017" if be_type is BeType.WAREHOUSING else None,
    )


ASSESSMENT = Assessment(REF, "confirmed", DUTY, OFFICER, _at(16))
STALE = Assessment(REF.at_version(1), "confirmed", DUTY, OFFICER, _at(11))
EXAMINATIONS = {
    outcome.value: Examination(REF, outcome, (), (1,), OFFICER, _at(15))
    for outcome in ExaminationOutcome
}
VERDICTS = {
    verdict: BisVerdict(REF, BisOutcome(verdict), (), (1,) if verdict == "conditional" else ())
    for verdict in ("passed", "failed", "conditional")
}
DECISIONS = {
    lane: RmsDecision(REF, lane or "facilitated", frozenset({lane} - {""}))
    for lane in ("", "assessment", "examination", "scanning", "pga_noc")
}
SEALS = {outcome: SealReconciliation(REF, outcome) for outcome in ("matched", "mismatched")}
NOCS: dict[str, dict[str, PgaNoc]] = {
    "none": {},
    "granted": {"WPC": PgaNoc(REF, "WPC", True, "NOC-1", _at(12))},
    "refused": {"WPC": PgaNoc(REF, "WPC", False, "NOC-1", _at(12))},
}
SAMPLES = {
    "none": None,
    "conforming": SampleResult(REF, True, "LAB", "TR-1", (), _at(17)),
    "non_conforming": SampleResult(REF, False, "LAB", "TR-1", (), _at(17)),
}


@dataclass(frozen=True)
class Row:
    certificate: str  # T2 | T1 | expired | none
    bis: str  # passed | failed | conditional
    selection: str  # "" | assessment | examination | scanning | pga_noc
    assessment: str  # none | valid | stale
    examination: str  # none | no_discrepancy | discrepancy | samples_drawn
    noc: str  # none | granted | refused
    duty: str  # paid | short | unpaid | deferred
    warehouse: str  # none (H) | matched | mismatched
    sample: str  # none | conforming | non_conforming

    def facts(self) -> ReleaseFacts:
        be_type = BeType.HOME_CONSUMPTION if self.warehouse == "none" else BeType.WAREHOUSING
        exam = None if self.examination == "none" else EXAMINATIONS[self.examination]
        paid = {"paid": DUTY, "short": Decimal(400), "unpaid": Decimal(0), "deferred": Decimal(0)}
        return ReleaseFacts(
            registered=_registered(self.certificate, be_type),
            bis=VERDICTS[self.bis],
            rms=DECISIONS[self.selection],
            seal=None if self.warehouse == "none" else SEALS[self.warehouse],
            assessment=ASSESSMENT if self.assessment == "valid" else None,
            assessment_stale=STALE if self.assessment == "stale" else None,
            examination=exam,
            nocs=NOCS[self.noc],
            paid=paid[self.duty],
            deferred=DUTY if self.duty == "deferred" else Decimal(0),
            sample=SAMPLES[self.sample],
        )

    def expected(self) -> tuple[str, bool]:
        """The rules, written plainly: (outcome, sale restricted)."""
        warehousing = self.warehouse != "none"
        required = self.selection == "assessment" or self.assessment == "stale"
        reassessed = self.assessment == "valid"  # at 16:00, after the examination at 15:00
        due_known = not required or self.assessment == "valid"
        blocked = (
            self.bis == "failed"
            or self.sample == "non_conforming"
            or self.warehouse == "mismatched"
            or (required and self.assessment != "valid")
            or (self.selection == "examination" and self.examination == "none")
            or (self.examination == "discrepancy" and not reassessed)
            or (self.selection == "pga_noc" and self.noc != "granted")
            or (not warehousing and due_known and self.duty in ("short", "unpaid"))
        )
        judgement = (
            (self.selection == "pga_noc" and self.noc == "granted")
            or (self.selection == "scanning" and self.examination == "none")
            or (self.examination == "discrepancy" and reassessed)
        )
        sampled = self.bis == "conditional" or self.examination == "samples_drawn"
        restricted = sampled and self.sample == "none"
        if blocked:
            return "held", restricted
        if self.examination in ("no_discrepancy", "samples_drawn") and not judgement:
            return "officer", restricted  # OOC-EXAM-1
        if not judgement and self.certificate == "T2":
            return "automatic", restricted  # OOC-AUTO-1
        return "grantable", restricted


ROWS = [
    Row(*values)
    for values in itertools.product(
        ["T2", "T1", "expired", "none"],
        ["passed", "failed", "conditional"],
        ["", "assessment", "examination", "scanning", "pga_noc"],
        ["none", "valid", "stale"],
        ["none", "no_discrepancy", "discrepancy", "samples_drawn"],
        ["none", "granted", "refused"],
        ["paid", "short", "unpaid", "deferred"],
        ["none", "matched", "mismatched"],
        ["none", "conforming", "non_conforming"],
    )
]


def _outcome(row: Row) -> tuple[str, bool]:
    decision = decide(row.facts())
    restricted = decision.restriction is not None
    if decision.release is not None:
        mode = decision.release[0]
        assert decision.release[2], "a release cites its rules"
        return ("automatic" if mode is Mode.AUTOMATIC else "officer"), restricted
    assert decision.held_reasons, "a hold says why"
    return ("grantable" if decision.grantable else "held"), restricted


def test_the_decision_table_over_every_combination_of_facts() -> None:
    """All 4x3x5x3x4x3x4x3x3 = 77,760 combinations against the rules written plainly."""
    actual = [(row, _outcome(row), row.expected()) for row in ROWS]
    wrong = [(row, got, want) for row, got, want in actual if got != want]
    assert not wrong, wrong[:5]
    outcomes = {row.expected()[0] for row in ROWS}
    assert outcomes == {"held", "officer", "automatic", "grantable"}


def _held(**changes: str) -> Row:
    plain = {
        "certificate": "T2", "bis": "passed", "selection": "", "assessment": "none",
        "examination": "none", "noc": "none", "duty": "paid", "warehouse": "none", "sample": "none",
    }  # fmt: skip
    return Row(**(plain | changes))


@pytest.mark.parametrize(
    ("row", "rule_id"),
    [
        (_held(bis="failed"), "OOC-BIS-1"),
        (_held(assessment="stale"), "INTAKE-AMEND-1"),
        (_held(duty="short"), "OOC-AUTO-1"),
        (_held(warehouse="mismatched"), "OOC-WH-1"),
        (_held(certificate="T1"), "OOC-AUTO-1"),
        (_held(selection="examination"), "RMS-1"),
        (_held(selection="pga_noc", noc="refused"), "RMS-3"),
        (_held(bis="conditional", sample="non_conforming"), "BIS-QCO-3"),
    ],
)
def test_each_hold_cites_its_rule(row: Row, rule_id: str) -> None:
    decision = decide(row.facts())
    assert decision.release is None
    assert rule_id in [reason.rule_id for reason in decision.held_reasons]
    assert all(reason.source_document for reason in decision.held_reasons)


def test_ccv_is_possible_only_when_duty_alone_blocks() -> None:
    """OOC-CCV-1."""
    unpaid = Row("none", "passed", "", "none", "none", "none", "unpaid", "none", "none")
    assert decide(unpaid.facts()).ccv_possible
    failed = Row("none", "failed", "", "none", "none", "none", "unpaid", "none", "none")
    assert not decide(failed.facts()).ccv_possible


# --- the aggregate: order and duplication ----------------------------------------------------

ALL_FACT_KINDS = st.fixed_dictionaries(
    {
        "certificate": st.sampled_from(["T2", "T3", "T1", "none"]),
        "bis": st.sampled_from(["passed", "failed", "conditional", "not_applicable"]),
        "selection": st.sampled_from(["", "assessment", "examination", "scanning", "pga_noc"]),
        "examination": st.sampled_from(["no_discrepancy", "discrepancy", "samples_drawn"]),
        "noc": st.sampled_from(["granted", "refused"]),
        "payments": st.lists(st.sampled_from([300, 700, 1000]), max_size=3),
        "deferred": st.booleans(),
        "warehouse": st.sampled_from(["none", "matched", "mismatched"]),
        "reassessed": st.booleans(),
    }
)


def _scenario(kinds: dict[str, Any]) -> list[Fact]:
    """The facts of one BE version, as their owners would publish them."""
    warehousing = kinds["warehouse"] != "none"
    be = _registered(
        kinds["certificate"], BeType.WAREHOUSING if warehousing else BeType.HOME_CONSUMPTION
    )
    facts: list[Fact] = [
        be,
        BisVerdict(
            REF, BisOutcome(kinds["bis"]), (), (1,) if kinds["bis"] == "conditional" else ()
        ),
        RmsDecision(
            REF, kinds["selection"] or "facilitated", frozenset({kinds["selection"]} - {""})
        ),
    ]
    if warehousing:
        facts.append(SealReconciliation(REF, kinds["warehouse"]))
    if kinds["selection"] == "examination":
        outcome = ExaminationOutcome(kinds["examination"])
        facts.append(Examination(REF, outcome, (), (1,), OFFICER, _at(15)))
    if kinds["selection"] == "assessment" or kinds["reassessed"]:
        facts.append(Assessment(REF, "reassessed", DUTY, OFFICER, _at(16)))
    if kinds["selection"] == "pga_noc":
        facts.append(PgaNoc(REF, "WPC", kinds["noc"] == "granted", "NOC-1", _at(12)))
    for n, total in enumerate(sorted(kinds["payments"])):
        facts.append(DutyPayment(REF, "paid", Decimal(total), Decimal(total), f"CH-{n}", _at(13)))
    if kinds["deferred"]:
        facts.append(DutyPayment(REF, "deferred", DUTY, Decimal(0), "OTP-1", _at(13)))
    return facts


def _run(facts: list[Fact]) -> ClearanceCase:
    case = ClearanceCase.open(REF)
    issued = 0
    for fact in facts:
        case.apply(fact)
        release = case.settle(T)
        if release is not None:
            issued += 1
            case.issue(
                release,
                out_of_charge_no=f"OOC-{issued}",
                gatepass_no=f"GP-{issued}",
                custodian_code="INNSA1CFS1",
                document_token="token",
                key_id="k",
                at=T,
            )
    assert issued <= 1, "exactly one OOC per BE"
    return case


def _summary(case: ClearanceCase) -> tuple[Any, ...]:
    issued = case.issued
    return (
        case.state,
        issued.mode if issued else None,
        issued.restriction is not None if issued else None,
        case.grantable,
        case.held_reasons,
    )


@settings(max_examples=150, deadline=None)
@given(kinds=ALL_FACT_KINDS, data=st.data())
def test_order_and_duplication_of_facts_never_change_the_outcome(
    kinds: dict[str, Any], data: st.DataObject
) -> None:
    facts = _scenario(kinds)
    shuffled = data.draw(st.permutations(facts))
    repeated = data.draw(st.lists(st.sampled_from(facts), max_size=6))
    assert _summary(_run([*shuffled, *repeated])) == _summary(_run(facts))


@settings(max_examples=60, deadline=None)
@given(data=st.data(), conforming=st.booleans())
def test_a_lab_result_orders_re_export_once_whatever_the_order(
    data: st.DataObject, conforming: bool
) -> None:
    """BIS-QCO-3: a failed sample orders re-export once; a passed one lifts the restriction."""
    facts = _scenario(
        {"certificate": "T2", "bis": "conditional", "selection": "",
         "examination": "no_discrepancy", "noc": "granted", "payments": [1000],
         "deferred": False, "warehouse": "none", "reassessed": False}
    )  # fmt: skip
    facts.append(SampleResult(REF, conforming, "LAB", "TR-1", (), _at(17)))
    case = _run(data.draw(st.permutations(facts)) + facts)
    assert case.re_export_ordered is (not conforming)
    assert not case.sale_restricted


def test_an_officer_grants_only_what_needs_judgement_and_ccv_waits_for_the_payment() -> None:
    """OOC-AUTO-1 (officer OOC for a non-AEO importer), OOC-CCV-1."""
    case = _run(
        [
            _registered("none"),
            BisVerdict(REF, BisOutcome.PASSED, ()),
            RmsDecision(REF, "facilitated", frozenset()),
        ]
    )
    assert case.state is CaseState.HELD
    assert not case.grantable
    with pytest.raises(CaseError):
        case.grant(OFFICER, 1)  # the duty blocks
    with pytest.raises(CaseError):
        case.clear_conditionally(Officer("someone", "INMUN1"), 1, T)  # not their location
    case.clear_conditionally(OFFICER, 1, T)
    assert case.state is CaseState.CONDITIONALLY_CLEARED
    case.apply(DutyPayment(REF, "paid", DUTY, DUTY, "CH-1", _at(13)))
    release = case.settle(T)
    assert release is not None
    assert release.mode is Mode.CCV
    other = _run(
        [_registered("none"), BisVerdict(REF, BisOutcome.PASSED, ()),
         RmsDecision(REF, "facilitated", frozenset()), DutyPayment(REF, "paid", DUTY, DUTY, "C", T)]
    )  # fmt: skip
    assert other.grantable
    granted = other.grant(OFFICER, 1)
    assert granted.mode is Mode.OFFICER
    assert granted.officer == OFFICER
