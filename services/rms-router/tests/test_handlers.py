"""rms-router's handlers and officers' commands with in-memory fakes: the join per BE
version, the tasks a decision opens, invalidation, seal alerts, results, claims."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from clearance_contracts import (
    BILL_OF_ENTRY_REGISTERED,
    BIS_VERIFICATION_COMPLETED,
    RMS_DECISION_MADE,
)
from clearance_runtime.access import Principal
from clearance_runtime.testing import event
from clearance_runtime.timers import Timer
from rms_router.domain.work import (
    CLAIMED,
    DONE,
    OPEN,
    SHIPPING_BILL,
    WAITING,
    WITHDRAWN,
    InvalidResult,
)
from rms_router.service_layer import officers
from rms_router.service_layer.handlers import (
    ASSESSMENT_COMPLETED,
    BILL_OF_ENTRY_INVALIDATED,
    CLAIM_EXPIRED,
    EXAMINATION_COMPLETED,
    SEAL_TRIP_ALERT_RAISED,
    handlers,
    timer_handlers,
)
from rms_router.service_layer.officers import Conflict, Forbidden, NotFound, Officer
from rms_router.testing import (
    DEFAULT_RULE_SET,
    amendment,
    bill_of_entry,
    certificate,
    policies_of,
    ref_of,
    registered,
    verified,
)

pytestmark = pytest.mark.unit

HANDLERS = handlers(policies_of())
NewUow = Callable[[], Any]
EXAMINER = Officer("officer.a.rao", "INNSA1", frozenset())
ASSESSOR = Officer("appraiser.k.menon", "INMAA1", frozenset({"5C"}))


async def batch(new_uow: NewUow, *events: tuple[str, dict[str, Any]], table: Any = None) -> Any:
    """One consumer batch: the handlers, then the commit with its once-per-batch steps."""
    uow = new_uow()
    for event_type, data in events:
        await (table or HANDLERS)[event_type](event(event_type, data), uow)
    await uow.commit()
    return uow


def both(be: dict[str, Any], version: int = 1, **kwargs: Any) -> list[tuple[str, dict[str, Any]]]:
    aeo = kwargs.pop("aeo", certificate("T2"))
    verdict = kwargs.pop("verdict", "not_applicable")
    return [
        (BILL_OF_ENTRY_REGISTERED, registered(be, version, aeo, kwargs.pop("amendment", None))),
        (BIS_VERIFICATION_COMPLETED, verified(be, version, verdict)),
    ]


async def test_the_registered_be_and_the_bis_verdict_are_joined_in_either_order(
    new_uow: NewUow, stores: Any
) -> None:
    """RMS-1: one decision per version, once both facts are in, whatever their order."""
    be = bill_of_entry()
    reg, bis = both(be)
    assert (await batch(new_uow, bis)).events_of(RMS_DECISION_MADE) == []
    [decision] = (await batch(new_uow, reg)).events_of(RMS_DECISION_MADE)
    assert decision["outcome"] == "facilitated"
    assert decision["selections"] == []
    assert decision["rule_set"] == {"policy_id": "rms-rule-set", "version": 1}
    assert decision["assessment_group"] == "5C"
    assert stores.audit.actions() == ["decided"]
    assert stores.tasks.rows == {}
    other = bill_of_entry(be_no="2345679")
    [same_batch] = (await batch(new_uow, *both(other))).events_of(RMS_DECISION_MADE)
    assert same_batch["bill_of_entry_ref"]["be_no"] == "2345679"
    assert await batch(new_uow, reg, bis) is not None  # redelivered facts decide nothing new
    assert len(stores.decisions.rows) == 2


async def test_a_stale_version_is_never_decided(new_uow: NewUow, stores: Any) -> None:
    be = bill_of_entry()
    v1_reg, v1_bis = both(be, 1)
    v2_reg, v2_bis = both(be, 2, amendment=amendment(False))
    await batch(new_uow, v1_reg, v2_reg)
    assert (await batch(new_uow, v1_bis)).events_of(RMS_DECISION_MADE) == []
    [v2] = (await batch(new_uow, v2_bis)).events_of(RMS_DECISION_MADE)
    assert v2["bill_of_entry_ref"]["version"] == 2
    assert (await batch(new_uow, v1_reg, v1_bis)).events_of(RMS_DECISION_MADE) == []
    assert [ref.version for ref in stores.decisions.rows] == [2]


async def test_first_check_opens_the_examination_and_assessment_waits(
    new_uow: NewUow, stores: Any
) -> None:
    """RMS-2, RMS-QUEUE-1, RMS-FAG-1."""
    be = bill_of_entry(first_check=True)
    [decision] = (await batch(new_uow, *both(be))).events_of(RMS_DECISION_MADE)
    assert decision["selections"] == ["first_check", "assessment", "examination"]
    tasks = {row.task.kind: row for row in stores.tasks.rows.values()}
    assert (tasks["examination"].task.queue, tasks["examination"].task.state) == (
        "location:INNSA1",
        OPEN,
    )
    assert (tasks["assessment"].task.queue, tasks["assessment"].task.state) == ("group:5C", WAITING)
    assert tasks["assessment"].summary["self_assessed_duty"] == 2881666.87
    assert stores.audit.actions() == ["decided", "task_opened", "task_opened"]


async def test_officers_claim_first_in_first_out_within_their_scope(
    new_uow: NewUow, stores: Any
) -> None:
    """RMS-QUEUE-1: FIFO per location; an officer of another location is refused."""
    first, second = (
        bill_of_entry(first_check=True),
        bill_of_entry(be_no="2345680", first_check=True),
    )
    await batch(new_uow, *both(first))
    await batch(new_uow, *both(second))
    uow = new_uow()
    with pytest.raises(Forbidden):
        await officers.claim_next(uow, ASSESSOR, "location:INNSA1", None, 1800)
    claimed = await officers.claim_next(uow, EXAMINER, "location:INNSA1", None, 1800)
    assert claimed.task.ref.be_no == first["be_no"]
    again = await officers.claim_next(uow, EXAMINER, "location:INNSA1", None, 1800)
    assert again.task.ref.be_no == second["be_no"]
    assert await officers.claim_next(uow, EXAMINER, "location:INNSA1", None, 1800) is None
    await uow.commit()
    [timer, _] = uow.pending_timers()
    assert timer.kind == CLAIM_EXPIRED
    assert timer.due_at == stores.clock.now() + timedelta(seconds=1800)
    assert stores.audit.actions()[-2:] == ["claimed", "claimed"]
    with pytest.raises(Forbidden, match="location"):
        Officer.of(Principal("someone", frozenset({"officer"}), {}))


async def test_an_examination_is_recorded_by_its_claimant_while_the_claim_holds(
    new_uow: NewUow, stores: Any
) -> None:
    """RMS-1: the result is an event; the audit trail says who, when, which version, why."""
    await batch(new_uow, *both(bill_of_entry(first_check=True)))
    uow = new_uow()
    claimed = await officers.claim_next(uow, EXAMINER, "location:INNSA1", None, 60)
    task_id = claimed.task.task_id
    other = Officer("officer.b", "INNSA1", frozenset())
    with pytest.raises(Conflict, match=r"not claimed by officer\.b"):
        await officers.record_examination(uow, other, task_id, {"outcome": "no_discrepancy"})
    stores.clock.advance(timedelta(seconds=61))
    with pytest.raises(Conflict, match="expired"):
        await officers.record_examination(uow, EXAMINER, task_id, {"outcome": "no_discrepancy"})
    stores.clock.advance(timedelta(seconds=-61))
    body = {"outcome": "discrepancy", "findings": ["72 PTZ cameras against 60 declared"]}
    data = await officers.record_examination(uow, EXAMINER, task_id, body)
    await uow.commit()
    [published] = uow.events_of(EXAMINATION_COMPLETED)
    assert published == data
    assert data["officer"] == {"officer_id": "officer.a.rao", "location": "INNSA1"}
    assert data["findings"][0]["rule_id"] == "RMS-1"
    assert stores.tasks.rows[task_id].task.state == DONE
    assert uow.timers[CLAIM_EXPIRED, f"{claimed.task.ref.key}#task-{task_id}"].cancelled
    entry = stores.audit.entries[-1]
    assert (entry.actor, entry.action, entry.ref.version) == (
        "officer.a.rao",
        "examination_recorded",
        1,
    )


async def test_results_keep_the_importers_record_and_open_what_waited(
    new_uow: NewUow, stores: Any
) -> None:
    """RMS-2: after a First Check examination the assessment opens; a discrepancy counts
    in the importer's record, and the importer's next BE is examined (RMS-1)."""
    be = bill_of_entry(first_check=True)
    await batch(new_uow, *both(be))
    uow = new_uow()
    claimed = await officers.claim_next(uow, EXAMINER, "location:INNSA1", None, 60)
    body = {"outcome": "discrepancy", "findings": ["undeclared items"]}
    data = await officers.record_examination(uow, EXAMINER, claimed.task.task_id, body)
    await uow.commit()
    await batch(new_uow, (EXAMINATION_COMPLETED, data))
    [assessment] = stores.tasks.of_kind("assessment")
    assert assessment.state == OPEN
    assert stores.importers.records["AAGCS4417M"].discrepancies == 1
    [next_decision] = (await batch(new_uow, *both(bill_of_entry(be_no="2345690")))).events_of(
        RMS_DECISION_MADE
    )
    assert "importer-discrepancy-history" in next_decision["fired_rules"]


async def test_a_result_of_no_task_of_ours_counts_for_nothing(new_uow: NewUow, stores: Any) -> None:
    """Only the results of rms-router's own queues make an importer's record."""
    be = bill_of_entry()
    await batch(new_uow, *both(be))
    injected = {
        "bill_of_entry_ref": ref_of(be).to_data(),
        "outcome": "discrepancy",
        "findings": [{"rule_id": "RMS-1", "message": "not ours"}],
        "samples": [],
        "officer": {"officer_id": "someone", "location": "INNSA1"},
        "examined_at": "2025-03-21T09:47:30+05:30",
    }
    await batch(new_uow, (EXAMINATION_COMPLETED, injected))
    assert stores.importers.records == {}
    assert stores.tasks.rows == {}


async def test_a_discrepancy_after_assessment_reopens_it_and_the_officer_reassesses(
    new_uow: NewUow, stores: Any
) -> None:
    """RMS-1, INTAKE-SA-1: assessed, examined with a discrepancy, re-assessed."""
    be = bill_of_entry(items=[("85258090", 900.0), ("71081300", 10.0)], assessable_value=30_000_000)
    await batch(new_uow, *both(be, aeo=None))
    uow = new_uow()
    assessment = await officers.claim_next(uow, ASSESSOR, "group:5C", None, 60)
    confirmed = await officers.record_assessment(
        uow, ASSESSOR, assessment.task.task_id, {"outcome": "confirmed"}
    )
    await uow.commit()
    await batch(new_uow, (ASSESSMENT_COMPLETED, confirmed))
    uow = new_uow()
    exam = await officers.claim_next(uow, EXAMINER, "location:INNSA1", "examination", 60)
    assert exam is not None, "the examination opens once assessed"
    body = {"outcome": "discrepancy", "findings": ["gold bar of 1 kg declared as 100 g"]}
    found = await officers.record_examination(uow, EXAMINER, exam.task.task_id, body)
    await uow.commit()
    await batch(new_uow, (EXAMINATION_COMPLETED, found))
    uow = new_uow()
    again = await officers.claim_next(uow, ASSESSOR, "group:5C", None, 60)
    assert again.instructions
    assert "discrepancy" in again.instructions
    body = {"outcome": "reassessed", "assessed_duty": 3_500_000, "reasons": ["weight"]}
    reassessed = await officers.record_assessment(uow, ASSESSOR, again.task.task_id, body)
    await uow.commit()
    assert reassessed["outcome"] == "reassessed"
    assert reassessed["assessed_duty"] == 3_500_000
    assert reassessed["officer"]["location"] == "INMAA1"
    assert "task_reopened" in stores.audit.actions()


async def test_an_amendment_that_invalidates_the_assessment_reopens_it(
    new_uow: NewUow, stores: Any
) -> None:
    """INTAKE-AMEND-1: the new version is assessed again; nothing of v1 stays open."""
    be = bill_of_entry(assessable_value=30_000_000)
    await batch(new_uow, *both(be, aeo=None))
    uow = new_uow()
    claimed = await officers.claim_next(uow, ASSESSOR, "group:5C", None, 60)
    await officers.record_assessment(uow, ASSESSOR, claimed.task.task_id, {"outcome": "confirmed"})
    await uow.commit()
    [v2] = (await batch(new_uow, *both(be, 2, aeo=None, amendment=amendment(True)))).events_of(
        RMS_DECISION_MADE
    )
    assert "amendment-invalidates-assessment" in v2["fired_rules"]
    [done, reopened] = sorted(stores.tasks.of_kind("assessment"), key=lambda t: t.task_id)
    assert (done.state, done.ref.version) == (DONE, 1)
    assert (reopened.state, reopened.ref.version) == (OPEN, 2)


async def test_an_invalidated_be_leaves_the_queues(new_uow: NewUow, stores: Any) -> None:
    be = bill_of_entry(first_check=True)
    await batch(new_uow, *both(be))
    invalidated = {
        "bill_of_entry_ref": ref_of(be).to_data(),
        "reasons": [{"rule_id": "INTAKE-PRIOR-1", "message": "no arrival within 30 days"}],
        "invalidated_at": "2025-04-20T00:00:00+05:30",
    }
    await batch(new_uow, (BILL_OF_ENTRY_INVALIDATED, invalidated))
    assert {row.task.state for row in stores.tasks.rows.values()} == {WITHDRAWN}
    assert stores.audit.actions()[-3:] == ["invalidated", "task_withdrawn", "task_withdrawn"]
    late = await batch(new_uow, *both(be, 2))
    assert late.events_of(RMS_DECISION_MADE) == []


def _tampered(be: dict[str, Any] | None) -> dict[str, Any]:
    ref = None if be is None else ref_of(be).to_data()
    return {
        "document_key": ref_of(be).key if be else "INNSA1/7654321/2025-06-02",
        "bill_of_entry_ref": ref,
        "shipping_bill_ref": None,
        "alert": "tamper_at_export",
        "seal_no": "ZSEL 4417 0932",
        "location": "INNSA1",
        "reasons": [{"rule_id": "SEAL-TAMPER-1", "message": "tampered"}],
        "raised_at": "2025-06-02T14:05:11+05:30",
    }


async def test_a_seal_tampered_at_export_forces_examination_before_or_after_the_decision(
    new_uow: NewUow, stores: Any
) -> None:
    """SEAL-TAMPER-1."""
    before = bill_of_entry(be_type="W", warehouse_code="MUM4W017")
    await batch(new_uow, (SEAL_TRIP_ALERT_RAISED, _tampered(before)))
    [decision] = (await batch(new_uow, *both(before))).events_of(RMS_DECISION_MADE)
    assert decision["fired_rules"] == ["seal-tampered-at-export"]
    after = bill_of_entry(be_no="2345700", be_type="W", warehouse_code="MUM4W017")
    [facilitated] = (await batch(new_uow, *both(after))).events_of(RMS_DECISION_MADE)
    assert facilitated["selections"] == []
    await batch(new_uow, (SEAL_TRIP_ALERT_RAISED, _tampered(after)))
    exams = stores.tasks.of_kind("examination", ref_of(after).identity)
    assert [(t.state, t.queue) for t in exams] == [(OPEN, "location:INNSA1")]
    await batch(new_uow, (SEAL_TRIP_ALERT_RAISED, _tampered(None)))  # names no document
    warehouse = {**_tampered(after), "alert": "tamper_at_warehouse"}  # SEAL-TAMPER-2
    await batch(new_uow, (SEAL_TRIP_ALERT_RAISED, warehouse))
    assert len(stores.tasks.of_kind("examination")) == 2


SHIPPING_BILL_REF = {"port_code": "INNSA1", "sb_no": "7654321", "sb_date": "2025-06-02"}


def _export_tampered(seal_no: str) -> dict[str, Any]:
    """The alert as warehouse-seal raises it on an export movement: the Shipping Bill, no BE."""
    return {
        **_tampered(None),
        "document_key": "INNSA1/7654321/2025-06-02",
        "shipping_bill_ref": SHIPPING_BILL_REF,
        "seal_no": seal_no,
        "actions": ["examination_required"],
        "movement": "warehouse_to_customs_station",
    }


async def test_a_seal_tampered_on_export_puts_its_shipping_bill_in_the_examination_queue(
    new_uow: NewUow, stores: Any
) -> None:
    """SEAL-TAMPER-1: one examination task for the Shipping Bill in the queue of its custom
    house (a second seal of it adds none while one is to come); the officer's result stays
    on the task and the Shipping Bill's audit trail: no event, no service follows it."""
    await batch(
        new_uow,
        (SEAL_TRIP_ALERT_RAISED, _export_tampered("RFSL 4417 0932")),
        (SEAL_TRIP_ALERT_RAISED, _export_tampered("RFSL 4417 0933")),
    )
    [task] = stores.tasks.of_kind("examination")
    assert (task.document, task.queue, task.state) == (SHIPPING_BILL, "location:INNSA1", OPEN)
    assert task.reference_data() == {
        "bill_of_entry_ref": None,
        "shipping_bill_ref": SHIPPING_BILL_REF,
    }
    uow = new_uow()
    claimed = await officers.claim_next(uow, EXAMINER, "location:INNSA1", None, 60)
    assert claimed.task.task_id == task.task_id
    assert claimed.summary["forced"] == "seal-tampered-at-export"
    assert claimed.summary["reasons"][0]["rule_id"] == "SEAL-TAMPER-1"
    with pytest.raises(InvalidResult, match="no items"):
        await officers.record_examination(
            uow, EXAMINER, task.task_id, {"outcome": "samples_drawn", "samples": [1]}
        )
    body = {"outcome": "discrepancy", "findings": ["seal cut; 12 cartons short"]}
    data = await officers.record_examination(uow, EXAMINER, task.task_id, body)
    await uow.commit()
    assert data["shipping_bill_ref"] == SHIPPING_BILL_REF
    assert "bill_of_entry_ref" not in data
    assert data["findings"][0]["rule_id"] == "SEAL-TAMPER-1"
    assert uow.published == []
    assert stores.tasks.rows[task.task_id].task.state == DONE
    assert {entry.document for entry in stores.audit.entries} == {SHIPPING_BILL}
    assert stores.audit.actions() == [
        "seal_tampered_at_export",
        "task_opened",
        "seal_tampered_at_export",
        "claimed",
        "examination_recorded",
    ]
    await batch(new_uow, (SEAL_TRIP_ALERT_RAISED, _export_tampered("RFSL 4417 0934")))
    assert len(stores.tasks.of_kind("examination")) == 2  # tampered again after it was done


async def test_an_expired_claim_returns_the_task_to_its_place(new_uow: NewUow, stores: Any) -> None:
    """RMS-QUEUE-1: a claim not completed in time."""
    await batch(new_uow, *both(bill_of_entry(first_check=True)))
    uow = new_uow()
    claimed = await officers.claim_next(uow, EXAMINER, "location:INNSA1", None, 60)
    await uow.commit()
    payload = {"task_id": claimed.task.task_id, "claim_no": claimed.task.claim_no}
    expire = timer_handlers()[CLAIM_EXPIRED]
    timer = Timer(1, CLAIM_EXPIRED, "k", stores.clock.now(), payload)
    uow = new_uow()
    await expire(timer, uow)
    await uow.commit()
    row = stores.tasks.rows[claimed.task.task_id]
    assert (row.task.state, row.task.claimed_by) == (OPEN, None)
    assert stores.audit.entries[-1].actor == "rms-router:claim-timer"
    reclaimed = await officers.claim_next(new_uow(), EXAMINER, "location:INNSA1", None, 60)
    assert reclaimed.task.task_id == claimed.task.task_id
    uow = new_uow()
    await expire(timer, uow)  # the old claim's timer changes nothing now
    await uow.commit()
    assert stores.tasks.rows[claimed.task.task_id].task.state == CLAIMED


async def test_a_rule_set_version_takes_effect_at_its_start_and_not_before(
    new_uow: NewUow, stores: Any
) -> None:
    """Policies: the version in force when the decision is taken."""
    start = stores.clock.now() + timedelta(hours=1)
    body = {**DEFAULT_RULE_SET["body"]}
    body["rules"] = [
        *body["rules"],
        {
            "id": "importer-under-watch",
            "when": {"field": "importer.iec", "eq": "AAGCS4417M"},
            "then": {"select": ["scanning"], "cite": "RMS-3", "message": "under watch"},
        },
    ]
    later = {**DEFAULT_RULE_SET, "version": 2, "effective_from": start.isoformat(), "body": body}
    table = handlers(policies_of(DEFAULT_RULE_SET, later))
    early = await batch(new_uow, *both(bill_of_entry()), table=table)
    [before] = early.events_of(RMS_DECISION_MADE)
    assert before["rule_set"]["version"] == 1
    stores.clock.set(start)
    [after] = (await batch(new_uow, *both(bill_of_entry(be_no="2345711")), table=table)).events_of(
        RMS_DECISION_MADE
    )
    assert after["rule_set"]["version"] == 2
    assert after["fired_rules"] == ["importer-under-watch"]


async def test_samples_drawn_at_examination_go_out_with_the_items_sampled(
    new_uow: NewUow, stores: Any
) -> None:
    """RMS-SAMPLE-1, BIS-QCO-3: the event names the items sampled, for the laboratory path."""
    await batch(new_uow, *both(bill_of_entry(first_check=True)))
    uow = new_uow()
    claimed = await officers.claim_next(uow, EXAMINER, "location:INNSA1", None, 60)
    with pytest.raises(InvalidResult, match=r"no items \[9\]"):
        await officers.record_examination(
            uow, EXAMINER, claimed.task.task_id, {"outcome": "samples_drawn", "samples": [9]}
        )
    body = {"outcome": "samples_drawn", "samples": [1, 5]}
    data = await officers.record_examination(uow, EXAMINER, claimed.task.task_id, body)
    await uow.commit()
    assert data["samples"] == [1, 5]
    assert data["findings"][-1]["rule_id"] == "RMS-SAMPLE-1"
    assert data["method"] == "physical"


async def test_an_officer_gives_a_claim_back_and_the_task_keeps_its_place(
    new_uow: NewUow, stores: Any
) -> None:
    """RMS-QUEUE-1: released, it is the next again."""
    await batch(new_uow, *both(bill_of_entry(first_check=True)))
    await batch(new_uow, *both(bill_of_entry(be_no="2345681", first_check=True)))
    uow = new_uow()
    first = await officers.claim_next(uow, EXAMINER, "location:INNSA1", None, 60)
    await officers.release(uow, EXAMINER, first.task.task_id)
    await uow.commit()
    assert stores.audit.actions()[-1] == "claim_released"
    assert uow.timers[CLAIM_EXPIRED, f"{first.task.ref.key}#task-{first.task.task_id}"].cancelled
    again = await officers.claim_next(new_uow(), EXAMINER, "location:INNSA1", None, 60)
    assert again.task.task_id == first.task.task_id
    with pytest.raises(NotFound):
        await officers.release(new_uow(), EXAMINER, 999)
