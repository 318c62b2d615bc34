"""be-intake's handlers with fakes: filings, facts of their owners, amendments, officers,
timers, dead letters (every decision cites its rule)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from be_intake.service_layer.handlers import (
    PRIOR_ENTRY_TIMER,
    RAW_HANDLERS,
    handlers,
    process,
)
from be_intake.service_layer.messages import (
    AmendmentDecision,
    PriorEntryExpired,
    Waiver,
)
from clearance_contracts import (
    AEO_CERTIFICATE_RECORDED,
    ASSESSMENT_COMPLETED,
    BILL_OF_ENTRY_AMENDMENT_FILED,
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_INVALIDATED,
    BILL_OF_ENTRY_NOTICE_PUBLISHED,
    BILL_OF_ENTRY_REGISTERED,
    BILL_OF_ENTRY_REJECTED,
    BIS_VERIFICATION_COMPLETED,
    BIS_VERIFICATION_PENDING,
    DEFERRED_PAYMENT_AUTHENTICATED,
    DUTY_PAYMENT_RECEIVED,
    DUTY_PAYMENT_RECORDED,
    IGM_ENTERED_INWARD,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RMS_DECISION_MADE,
    example,
)
from clearance_runtime.clock import ControllableClock
from clearance_runtime.testing import event
from clearance_runtime.tracing import continuing

pytestmark = pytest.mark.unit
FakeIntake = Any
IDENTITY = ("INNSA1", "2345678", datetime(2025, 3, 20).date())
KEY = "INNSA1/2345678/2025-03-20"
BOOK: Any = None
HANDLERS: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _tables(book: Any) -> None:
    global BOOK
    BOOK = book
    HANDLERS.update(handlers(book))


async def _handle(new_uow: Callable[[], Any], *events: tuple[str, dict[str, Any]]) -> Any:
    uow = new_uow()
    for event_type, data in events:
        await HANDLERS[event_type](event(event_type, data), uow)
    await uow.commit()
    return uow


def _directory() -> tuple[str, dict[str, Any]]:
    return AEO_CERTIFICATE_RECORDED, example(AEO_CERTIFICATE_RECORDED)


def _arrival(inward: str = "2025-03-21") -> tuple[str, dict[str, Any]]:
    return IGM_ENTERED_INWARD, {**example(IGM_ENTERED_INWARD), "inward_date": inward}


def _filing(**changes: Any) -> tuple[str, dict[str, Any]]:
    return BILL_OF_ENTRY_FILED, {**example(BILL_OF_ENTRY_FILED), **changes}


def _notices(uow: Any) -> list[str]:
    return [n["notice"] for n in uow.events_of(BILL_OF_ENTRY_NOTICE_PUBLISHED)]


async def test_a_valid_filing_is_registered_once_with_the_directorys_certificate(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    """INTAKE-BE-1, OOC-AUTO-1: the certificate comes from the directory, not the filing."""
    uow = await _handle(uow_of, _directory(), _arrival(), _filing())
    [registered] = uow.events_of(BILL_OF_ENTRY_REGISTERED)
    assert registered["bill_of_entry_ref"]["version"] == 1
    assert registered["aeo_certificate"]["tier"] == "T2"
    assert registered["arrival"]["inward_date"] == "2025-03-21"
    assert registered["amendment"] is None
    assert _notices(uow) == ["accepted"]
    again = await _handle(uow_of, _filing())
    assert again.published == []  # a duplicate changes nothing
    assert [s[2] for s in intake.submissions] == ["registered", "duplicate"]


async def test_the_same_job_number_and_date_from_the_same_filer_is_one_be(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    await _handle(uow_of, _filing())
    uow = await _handle(uow_of, _filing(be_no="2345679"))
    assert uow.events_of(BILL_OF_ENTRY_REGISTERED) == []
    assert intake.submissions[-1][2] == "duplicate"


async def test_an_invalid_filing_is_rejected_with_every_rule_it_breaks(
    uow_of: Callable[[], Any],
) -> None:
    uow = await _handle(uow_of, _filing(iec="bad", be_type="W", warehouse_code=None))
    [rejected] = uow.events_of(BILL_OF_ENTRY_REJECTED)
    assert [r["rule_id"] for r in rejected["reasons"]] == ["INTAKE-IEC-1", "INTAKE-BE-2"]
    assert uow.events_of(BILL_OF_ENTRY_REGISTERED) == []
    assert _notices(uow) == ["rejected"]  # the broker hears of it


async def test_a_claimed_aeo_tier_unknown_to_the_directory_is_flagged_not_used(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    uow = await _handle(uow_of, _filing(aeo_tier="T3"))
    [registered] = uow.events_of(BILL_OF_ENTRY_REGISTERED)
    assert registered["aeo_certificate"] is None
    flagged = [r for e in intake.timeline for r in e.reasons if r["rule_id"] == "OOC-AUTO-1"]
    assert "claims AEO T3" in flagged[0]["message"]


async def test_a_claim_of_duty_paid_records_no_payment(uow_of: Callable[[], Any]) -> None:
    """INTAKE-DUTY-1: only the bank's or ledger's report is a payment."""
    filing = example(BILL_OF_ENTRY_FILED)
    filing["duty"] = {**filing["duty"], "paid": True, "deferred_payment_otp_authenticated": False}
    uow = await _handle(uow_of, _filing(duty=filing["duty"]))
    assert uow.events_of(DUTY_PAYMENT_RECORDED) == []


async def test_a_payment_before_the_filing_is_recorded_once_registered(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    payment = example(DUTY_PAYMENT_RECEIVED)
    first = await _handle(uow_of, (DUTY_PAYMENT_RECEIVED, payment))
    assert first.events_of(DUTY_PAYMENT_RECORDED) == []
    uow = await _handle(uow_of, _arrival(), _filing())
    [recorded] = uow.events_of(DUTY_PAYMENT_RECORDED)
    assert recorded["total_paid"] == payment["amount"]
    assert intake.case(IDENTITY).status.value == "paid"


async def test_a_payment_later_continues_the_trace_of_its_filing(
    uow_of: Callable[[], Any],
) -> None:
    """Operations follow a BE in one trace: the payment recorded days after the filing
    (INTAKE-DUTY-1) is published in the filing's trace, not the bank's."""
    filing_trace, bank_trace = "a" * 32, "c" * 32
    uow = uow_of()
    await HANDLERS[IGM_ENTERED_INWARD](event(*_arrival()), uow)
    with continuing({"traceparent": f"00-{filing_trace}-{'b' * 16}-01"}):
        await HANDLERS[BILL_OF_ENTRY_FILED](event(*_filing()), uow)
    await uow.commit()
    [registered] = [e for e in uow.published if e.type == BILL_OF_ENTRY_REGISTERED]
    assert registered.traceparent is not None
    assert registered.traceparent.split("-")[1] == filing_trace
    uow = uow_of()
    with continuing({"traceparent": f"00-{bank_trace}-{'d' * 16}-01"}):
        payment = example(DUTY_PAYMENT_RECEIVED)
        await HANDLERS[DUTY_PAYMENT_RECEIVED](event(DUTY_PAYMENT_RECEIVED, payment), uow)
    await uow.commit()
    [recorded] = [e for e in uow.published if e.type == DUTY_PAYMENT_RECORDED]
    assert recorded.traceparent is not None
    assert recorded.traceparent.split("-")[1] == filing_trace


async def test_deferment_needs_a_t2_or_t3_certificate_and_has_its_due_date(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    """INTAKE-DUTY-2: BE of 20 March -> due 31 March."""
    otp = (DEFERRED_PAYMENT_AUTHENTICATED, example(DEFERRED_PAYMENT_AUTHENTICATED))
    uow = await _handle(uow_of, _directory(), _arrival(), _filing(), otp)
    [recorded] = uow.events_of(DUTY_PAYMENT_RECORDED)
    assert (recorded["kind"], recorded["due_date"]) == ("deferred", "2025-03-31")
    other = {"be_no": "1111111", "iec": "AABCK1234L"}
    refused = await _handle(
        uow_of,
        _filing(user_job_no="1", **other),
        (DEFERRED_PAYMENT_AUTHENTICATED, {**otp[1], **other}),
    )
    assert refused.events_of(DUTY_PAYMENT_RECORDED) == []


async def test_a_late_sea_be_owes_charges_the_officer_may_waive(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    """INTAKE-LATE-3 (sea, after 2021): the end of the day before arrival; presented on the
    20th for an arrival on the 19th is 2 days late: Rs 10,000 (INTAKE-LATE-2)."""
    await _handle(uow_of, _arrival("2025-03-19"), _filing())
    case = intake.case(IDENTITY)
    assert case.late is not None
    assert (case.late["rule_id"], case.late["days_late"], case.late["charge"]) == (
        "INTAKE-LATE-3",
        2,
        "10000",
    )
    uow = uow_of()
    [result] = await process(uow, BOOK, [Waiver(IDENTITY, "ac.innsa1.07", "port congestion")])
    await uow.commit()
    assert result is not None
    assert result.outcome == "waived"
    assert intake.case(IDENTITY).late["waived"]["officer_id"] == "ac.innsa1.07"
    uow = uow_of()
    [again] = await process(uow, BOOK, [Waiver(IDENTITY, "ac.innsa1.07", "again")])
    assert again is not None
    assert again.outcome == "refused_waiver"


async def test_a_prior_entry_without_arrival_is_invalidated_when_its_timer_fires(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    """INTAKE-PRIOR-1."""
    uow = await _handle(uow_of, _filing(prior_be=True))
    [timer] = uow.pending_timers()
    assert timer.kind == PRIOR_ENTRY_TIMER
    assert timer.due_at.date().isoformat() == "2025-04-20"  # the start of day 31 (IST)
    fired = uow_of()
    await process(fired, BOOK, [PriorEntryExpired(IDENTITY)])
    await fired.commit()
    [invalidated] = fired.events_of(BILL_OF_ENTRY_INVALIDATED)
    assert invalidated["reasons"][0]["rule_id"] == "INTAKE-PRIOR-1"
    assert intake.case(IDENTITY).status.value == "invalidated"


async def test_an_arrival_within_30_days_keeps_the_prior_entry(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    await _handle(uow_of, _filing(prior_be=True))
    await _handle(uow_of, _arrival("2025-04-18"))  # day 29
    assert intake.case(IDENTITY).arrival["inward_date"] == "2025-04-18"
    fired = uow_of()
    await process(fired, BOOK, [PriorEntryExpired(IDENTITY)])
    await fired.commit()
    assert fired.events_of(BILL_OF_ENTRY_INVALIDATED) == []


def _verdict(event_type: str, version: int, **changes: Any) -> tuple[str, dict[str, Any]]:
    data = copy.deepcopy(example(event_type))
    data["bill_of_entry_ref"].update(be_no="2345678", be_date="2025-03-20", version=version)
    return event_type, {**data, **changes}


def _amendment(**be_changes: Any) -> tuple[str, dict[str, Any]]:
    data = copy.deepcopy(example(BILL_OF_ENTRY_AMENDMENT_FILED))
    data["bill_of_entry"].update(be_changes)
    return BILL_OF_ENTRY_AMENDMENT_FILED, data


async def test_an_amendment_before_assessment_is_the_next_version(
    uow_of: Callable[[], Any],
) -> None:
    await _handle(uow_of, _directory(), _arrival(), _filing())
    uow = await _handle(uow_of, _amendment())
    [registered] = uow.events_of(BILL_OF_ENTRY_REGISTERED)
    assert registered["bill_of_entry_ref"]["version"] == 2
    assert registered["amendment"] == {
        "amendment_no": 1,
        "changed_elements": ["importer_address"],
        "assessment_invalidated": False,
        "after_out_of_charge": False,
    }
    assert registered["aeo_certificate"]["tier"] == "T2"


async def test_an_amendment_of_an_element_of_assessment_after_assessment_invalidates_it(
    uow_of: Callable[[], Any],
) -> None:
    """INTAKE-AMEND-1: the CTH changed after the officer assessed version 1."""
    await _handle(uow_of, _arrival(), _filing(), _verdict(ASSESSMENT_COMPLETED, 1))
    amended = copy.deepcopy(example(BILL_OF_ENTRY_FILED))
    amended["invoices"][0]["items"][0]["cth"] = "85258020"
    address = amended["importer_address"]
    uow = await _handle(uow_of, _amendment(invoices=amended["invoices"], importer_address=address))
    [registered] = uow.events_of(BILL_OF_ENTRY_REGISTERED)
    assert registered["amendment"]["assessment_invalidated"] is True
    assert registered["amendment"]["changed_elements"] == ["invoices[0].items[0].cth"]


async def test_after_out_of_charge_an_amendment_waits_for_the_officer_and_never_reopens(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    """INTAKE-AMEND-2."""
    await _handle(uow_of, _arrival(), _filing(), _verdict(OUT_OF_CHARGE_ISSUED, 1))
    late_evidence = _amendment()
    late_evidence[1]["documentary_evidence"][0]["issued_on"] = "2026-01-01"
    refused = await _handle(uow_of, late_evidence)
    assert refused.events_of(BILL_OF_ENTRY_REGISTERED) == []
    assert refused.events_of(BILL_OF_ENTRY_REJECTED)[0]["reasons"][0]["rule_id"] == "INTAKE-AMEND-2"
    pending = await _handle(uow_of, _amendment())
    assert pending.events_of(BILL_OF_ENTRY_REGISTERED) == []
    assert _notices(pending) == ["documents_requested"]
    uow = uow_of()
    [result] = await process(
        uow, BOOK, [AmendmentDecision(IDENTITY, 1, True, "dc.pag.2", "GST record")]
    )
    await uow.commit()
    assert result is not None
    assert result.outcome == "approved"
    [registered] = uow.events_of(BILL_OF_ENTRY_REGISTERED)
    assert registered["amendment"]["after_out_of_charge"] is True
    case = intake.case(IDENTITY)
    assert (case.version, case.status.value) == (2, "gatepass_issued")
    assert "amendment_accepted" in _notices(uow)


async def test_a_late_v1_verdict_never_overwrites_the_v2_status(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    await _handle(uow_of, _arrival(), _filing(), _amendment())
    await _handle(uow_of, _verdict(OUT_OF_CHARGE_HELD, 2))
    await _handle(uow_of, _verdict(RMS_DECISION_MADE, 1))
    case = intake.case(IDENTITY)
    assert (case.status.value, case.version) == ("under_control", 2)
    assert intake.timeline[-1].event_type == RMS_DECISION_MADE  # the late one is in the timeline


async def test_out_of_charge_stands_when_a_later_version_arrives(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    await _handle(uow_of, _arrival(), _filing(), _verdict(OUT_OF_CHARGE_ISSUED, 1))
    await _handle(uow_of, _verdict(RMS_DECISION_MADE, 2))
    assert intake.case(IDENTITY).status.value == "gatepass_issued"


async def test_a_dead_letter_marks_its_be_stuck_and_the_producers_event_resolves_it(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    record = SimpleNamespace(
        topic="clearance.rms-decision.made.v1.dlq",
        partition=0,
        offset=7,
        timestamp=1_700_000_000_000,
        key=KEY.encode(),
        headers=[("dlq_consumer", b"ooc-issuer"), ("dlq_reason", b"handler failed")],
    )
    await RAW_HANDLERS["clearance.rms-decision.made.v1.dlq"](record, uow_of())
    assert [(c, r) for _, c, r in intake.dead_letters] == [("ooc-issuer", "handler failed")]
    await _handle(uow_of, _filing(), _verdict(OUT_OF_CHARGE_HELD, 1))
    assert intake.resolved[-1][1] == "ooc-issuer"  # ooc-issuer moved the BE on


async def test_a_filing_registered_resolves_the_dead_letters_be_intake_left(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    """A filing once dead-lettered by be-intake, filed again well-formed and registered
    (INTAKE-IEC-1 passed): the BE is no longer stuck."""
    await _handle(uow_of, _arrival(), _filing())
    assert intake.resolved[-1][1] == "be-intake"


async def test_status_moves_with_the_facts_of_their_owners(
    uow_of: Callable[[], Any], intake: FakeIntake, clock: ControllableClock
) -> None:
    """STATUS-1: accepted -> duty due -> paid -> released (each a notice)."""
    uow = await _handle(uow_of, _arrival(), _filing())
    facilitated = _verdict(RMS_DECISION_MADE, 1, outcome="facilitated", assessment_group=None)
    clock.advance(timedelta(minutes=1))
    uow = await _handle(uow_of, facilitated)
    assert _notices(uow) == ["duty_due"]
    uow = await _handle(uow_of, (DUTY_PAYMENT_RECEIVED, example(DUTY_PAYMENT_RECEIVED)))
    assert _notices(uow) == ["paid"]
    uow = await _handle(uow_of, _verdict(OUT_OF_CHARGE_ISSUED, 1))
    assert _notices(uow) == ["gatepass_issued"]
    notice = uow.events_of(BILL_OF_ENTRY_NOTICE_PUBLISHED)[0]
    assert (notice["filer"], notice["notice_code"]) == ("AABCJ2231PCH001", "09")


async def test_a_bis_check_waiting_for_the_registry_shows_until_its_verdict(
    uow_of: Callable[[], Any], intake: FakeIntake
) -> None:
    """BIS-CRS-1, STATUS-1: the registry down, the BE shows as verification pending (34);
    the verdict, when the registry answers, ends the wait."""
    await _handle(uow_of, _arrival(), _filing())
    uow = await _handle(uow_of, _verdict(BIS_VERIFICATION_PENDING, 1))
    [notice] = uow.events_of(BILL_OF_ENTRY_NOTICE_PUBLISHED)
    assert (notice["status"], notice["notice_code"]) == ("bis_verification_pending", "34")
    assert intake.timeline[-1].summary.startswith("BIS verification pending")
    await _handle(uow_of, _verdict(BIS_VERIFICATION_COMPLETED, 1, verdict="passed"))
    assert intake.case(IDENTITY).status.value == "accepted"
