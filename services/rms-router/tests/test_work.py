"""The officers' work (pure): which tasks a decision opens, carries or withdraws, what a
result unblocks, and which results can be recorded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from clearance_domain import BillOfEntryRef, PolicyRef
from rms_router.domain.decision import RmsDecision
from rms_router.domain.work import (
    CLAIMED,
    DONE,
    OPEN,
    WAITING,
    AssessmentResult,
    ExaminationResult,
    InvalidResult,
    PgaNocResult,
    Task,
    after_result,
    plan_work,
)

pytestmark = pytest.mark.unit

REF = BillOfEntryRef("INNSA1", "2345678", date(2025, 3, 20), 1)


def decision(
    *selections: str, group: str | None = "5C", agencies: tuple[str, ...] = ()
) -> RmsDecision:
    return RmsDecision(
        outcome="x",
        selections=selections,
        assessment_group=group,
        rule_set=PolicyRef("rms-rule-set", 1),
        fired_rules=(),
        reasons=(),
        examination_instructions="look closely",
        partner_agencies=agencies,
    )


def task(task_id: int, kind: str, state: str, version: int = 1, **extra: object) -> Task:
    return Task(task_id, REF.at_version(version), kind, "q", state, **extra)  # type: ignore[arg-type]


def test_examination_waits_for_assessment() -> None:
    """Seed 002: examination after assessment by the appraising group (RMS-QUEUE-1)."""
    plan = plan_work(REF, decision("assessment", "examination"))
    [assess, examine] = plan.new
    assert (assess.kind, assess.queue, assess.state) == ("assessment", "group:5C", OPEN)
    assert (examine.kind, examine.queue, examine.state) == (
        "examination",
        "location:INNSA1",
        WAITING,
    )
    assert examine.after == "assessment"
    assert examine.instructions == "look closely"


def test_on_first_check_assessment_waits_for_examination() -> None:
    """RMS-2."""
    plan = plan_work(REF, decision("first_check", "assessment", "examination"))
    states = {new.kind: (new.state, new.after) for new in plan.new}
    assert states == {"assessment": (WAITING, "examination"), "examination": (OPEN, None)}


def test_one_noc_task_per_agency_and_no_group_means_the_port() -> None:
    plan = plan_work(REF, decision("assessment", "pga_noc", group=None, agencies=("FSSAI", "PQIS")))
    assert [(n.kind, n.queue, n.agency) for n in plan.new] == [
        ("assessment", "location:INNSA1", None),
        ("pga_noc", "location:INNSA1", "FSSAI"),
        ("pga_noc", "location:INNSA1", "PQIS"),
    ]


def test_a_new_version_carries_unfinished_work_and_withdraws_what_is_no_longer_selected() -> None:
    existing = [
        task(1, "assessment", CLAIMED, claimed_by="a"),
        task(2, "examination", WAITING, after="assessment"),
        task(3, "scanning", OPEN),
    ]
    plan = plan_work(REF.at_version(2), decision("assessment", "examination"), existing)
    assert [t.task_id for t in plan.carried] == [1, 2]
    assert [t.task_id for t in plan.withdrawn] == [3]
    assert plan.new == []


def test_finished_work_is_not_done_again_unless_the_amendment_invalidated_it() -> None:
    """INTAKE-AMEND-1: an amendment that changes an element of assessment re-opens it."""
    existing = [task(1, "assessment", DONE), task(2, "examination", DONE)]
    kept = plan_work(REF.at_version(2), decision("assessment", "examination"), existing)
    assert kept.empty
    reopened = plan_work(
        REF.at_version(2),
        decision("assessment", "examination"),
        existing,
        assessment_invalidated=True,
    )
    [assess] = reopened.new
    assert (assess.kind, assess.state, assess.reopened) == ("assessment", OPEN, True)
    assert assess.instructions
    assert "amendment" in assess.instructions


def test_a_result_opens_the_tasks_that_waited_for_it() -> None:
    tasks = [task(1, "assessment", DONE), task(2, "examination", WAITING, after="assessment")]
    to_open, reassess = after_result("assessment", "confirmed", tasks, "group:5C")
    assert [t.task_id for t in to_open] == [2]
    assert reassess is None
    still = [*tasks, task(3, "assessment", OPEN)]
    assert after_result("assessment", "confirmed", still, "group:5C") == ([], None)


def test_a_discrepancy_reopens_assessment_unless_one_is_to_come() -> None:
    """RMS-1, INTAKE-SA-1."""
    done = [task(1, "assessment", DONE), task(2, "examination", DONE)]
    _, reassess = after_result("examination", "discrepancy", done, "group:5C")
    assert reassess is not None
    assert (reassess.kind, reassess.queue, reassess.reopened) == ("assessment", "group:5C", True)
    first_check = [
        task(1, "examination", DONE),
        task(2, "assessment", WAITING, after="examination"),
    ]
    to_open, reassess = after_result("examination", "discrepancy", first_check, "group:5C")
    assert [t.task_id for t in to_open] == [2]
    assert reassess is None
    assert after_result("examination", "no_discrepancy", done, "group:5C") == ([], None)


def test_an_assessment_confirms_or_reassesses_with_reasons() -> None:
    """INTAKE-SA-1."""
    duty = Decimal("2881666.87")
    confirmed = AssessmentResult.from_data({"outcome": "confirmed"}, duty)
    assert confirmed.assessed_duty == duty
    assert AssessmentResult.from_data({"outcome": "confirmed", "assessed_duty": 2881666.87}, duty)
    with pytest.raises(InvalidResult, match="re-assessment"):
        AssessmentResult.from_data({"outcome": "confirmed", "assessed_duty": 1}, duty)
    with pytest.raises(InvalidResult, match="reasons"):
        AssessmentResult.from_data({"outcome": "reassessed", "assessed_duty": 3e6}, duty)
    reassessed = AssessmentResult.from_data(
        {"outcome": "reassessed", "assessed_duty": 2954311.4, "reasons": ["undervalued"]}, duty
    )
    assert reassessed.assessed_duty == Decimal("2954311.40")


def test_an_examination_result_names_its_findings_and_samples() -> None:
    """RMS-1, RMS-SAMPLE-1."""
    assert ExaminationResult.from_data({"outcome": "no_discrepancy"}, [1, 2]).findings == ()
    with pytest.raises(InvalidResult, match="findings"):
        ExaminationResult.from_data({"outcome": "discrepancy"}, [1])
    with pytest.raises(InvalidResult, match="items sampled"):
        ExaminationResult.from_data({"outcome": "samples_drawn"}, [1])
    with pytest.raises(InvalidResult, match=r"no items \[7\]"):
        ExaminationResult.from_data({"outcome": "samples_drawn", "samples": [7]}, [1])


def test_a_noc_is_the_task_agencys_with_a_reference() -> None:
    """RMS-3."""
    noc = PgaNocResult.from_data({"outcome": "granted", "reference": "N-1"}, "FSSAI")
    assert noc.agency == "FSSAI"
    with pytest.raises(InvalidResult, match="not PQIS"):
        PgaNocResult.from_data({"agency": "PQIS", "outcome": "granted", "reference": "N"}, "FSSAI")
    with pytest.raises(InvalidResult, match="reference"):
        PgaNocResult.from_data({"outcome": "refused", "reference": " "}, "FSSAI")
