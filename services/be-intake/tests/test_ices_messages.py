"""CHCAI04 and CHCAI07 to the filer of a BE filed as an ICES 1.5 flat file (issue 9), with
in-memory fakes: the processed BE once per version when its assessment is complete (BE
message format v2.23, p. 55, `<Sequence Number>.chl`, p. 11), the out-of-charge BE once on
Out of Charge (p. 56, no layout: the platform's record, `.ooc`), both as
`clearance.ices-message.issued.v1`; a JSON filing gets neither; a fact about an older
version sends nothing."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from be_intake.adapters.ices import messages, spec
from be_intake.adapters.ices.samples import cachi01, example_be
from be_intake.domain.case import IcesMessage, IntakeCase
from be_intake.entrypoints.ices import inbox_writer
from be_intake.service_layer import ices
from be_intake.service_layer.handlers import handlers
from clearance_contracts import (
    ASSESSMENT_COMPLETED,
    BILL_OF_ENTRY_AMENDMENT_FILED,
    BILL_OF_ENTRY_FILED,
    DUTY_PAYMENT_RECEIVED,
    ICES_MESSAGE_ISSUED,
    IGM_ENTERED_INWARD,
    OUT_OF_CHARGE_ISSUED,
    RMS_DECISION_MADE,
    example,
    validate_event,
)
from clearance_domain import BillOfEntryRef
from clearance_runtime.testing import event

pytestmark = pytest.mark.unit

PORT, BE_NO, BE_DATE = "INNSA1", "5000001", "2025-03-20"  # the first number of INNSA1 (fakes)
IDENTITY = (PORT, BE_NO, date.fromisoformat(BE_DATE))
FILER = "AABCJ2231PCH001"  # BE field 22 'CHA Code' of the sample file, and its HREC sender


def _runner(uow_of: Callable[[], Any]) -> Callable[[], Any]:
    @asynccontextmanager
    async def unit_of_work() -> AsyncIterator[Any]:
        uow = uow_of()
        yield uow
        await uow.commit()

    return unit_of_work


async def _file_flat(uow_of: Callable[[], Any], book: Any, channel: str = "http") -> None:
    raw = cachi01(example_be()).encode()
    ack = await ices.receive(_runner(uow_of), book, raw, name="401272025.be", channel=channel)
    assert ack.outcome == "registered", ack.faults
    assert ack.ref is not None
    assert (ack.ref.be_no, ack.ref.be_date.isoformat()) == (BE_NO, BE_DATE)


def _about(event_type: str, version: int = 1, **changes: Any) -> tuple[str, dict[str, Any]]:
    data = copy.deepcopy(example(event_type))
    ref = {"port_code": PORT, "be_no": BE_NO, "be_date": BE_DATE, "version": version}
    if "bill_of_entry_ref" in data:
        data["bill_of_entry_ref"] = ref
    else:
        data.update(port_code=PORT, be_no=BE_NO, be_date=BE_DATE)
    return event_type, {**data, **changes}


def _facilitated(version: int = 1) -> tuple[str, dict[str, Any]]:
    """RMS accepted the self-assessment: assessment complete (OOC-AUTO-1)."""
    return _about(RMS_DECISION_MADE, version, outcome="facilitated", selections=[])


def _ooc(version: int = 1, **changes: Any) -> tuple[str, dict[str, Any]]:
    return _about(OUT_OF_CHARGE_ISSUED, version, **changes)


async def _handle(
    uow_of: Callable[[], Any], book: Any, *events: tuple[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The events through be-intake's handler table; the ICES messages published."""
    table = handlers(book)
    uow = uow_of()
    for event_type, data in events:
        await table[event_type](event(event_type, data), uow)
    await uow.commit()
    sent = list(uow.events_of(ICES_MESSAGE_ISSUED))
    for data in sent:
        validate_event(ICES_MESSAGE_ISSUED, data)
    return sent


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _record(message: str) -> list[str]:
    """The one data record of a CHCAI04 / CHCAI07 (between HREC and TREC)."""
    lines = message.rstrip("\n").split("\n")
    assert lines[0].split(spec.DELIMITER)[0] == "HREC"
    assert lines[-1].split(spec.DELIMITER)[0] == "TREC"
    [record] = lines[1:-1]
    return record.split(spec.DELIMITER)


async def test_a_flat_file_be_gets_chcai04_once_when_rms_accepts_its_self_assessment(
    uow_of: Callable[[], Any], book: Any, intake: Any
) -> None:
    """Spec p. 55 (CHCAI04: Message Type, Custom House Code, BE Number, BE Date, CHA/IEC
    User Id, Challan Number, BE Print File Location) named `<Sequence Number>.chl` (p. 11);
    HREC to the filing's sender, its control number the sequence (p. 9). RMS facilitation is
    assessment complete (OOC-AUTO-1)."""
    await _file_flat(uow_of, book)
    assert intake.case(IDENTITY).ices["sender"] == FILER  # remembered in the case's data
    [sent] = await _handle(uow_of, book, _facilitated())
    sequence = f"{PORT}{BE_NO}2025032001"
    assert sent["filer"] == FILER
    assert sent["message_id"] == "CHCAI04"
    assert sent["bill_of_entry_ref"] == {
        "port_code": PORT,
        "be_no": BE_NO,
        "be_date": BE_DATE,
        "version": 1,
    }
    assert (sent["control_no"], sent["file_name"]) == (sequence, f"{sequence}.chl")
    assert (sent["channel"], sent["ooc_no"]) == ("http", None)
    header = sent["message"].split("\n")[0].split(spec.DELIMITER)
    assert (header[2], header[4], header[8], header[9]) == (PORT, FILER, "CHCAI04", sequence)
    assert sent["message"].rstrip("\n").endswith(f"TREC{spec.DELIMITER}{sequence}")
    assert _record(sent["message"]) == ["F", PORT, BE_NO, "20250320", FILER, "", ""]
    assert await _handle(uow_of, book, _facilitated()) == []  # once per version
    assert await _handle(uow_of, book, _about(DUTY_PAYMENT_RECEIVED)) == []  # paid: no more


async def test_chcai04_waits_for_the_officers_assessment_when_rms_selects_assessment(
    uow_of: Callable[[], Any], book: Any, intake: Any
) -> None:
    """RMS selected the BE for assessment: not assessed until the faceless group's
    `clearance.assessment.completed.v1` (INTAKE-SA-1), which sends CHCAI04 (p. 55: "On
    completion of assessment by the Customs Officers, ICES generates an assessed BE")."""
    await _file_flat(uow_of, book)
    selected = _about(RMS_DECISION_MADE, 1, outcome="assessment", selections=["assessment"])
    assert await _handle(uow_of, book, selected) == []
    [sent] = await _handle(uow_of, book, _about(ASSESSMENT_COMPLETED))
    assert (sent["message_id"], sent["bill_of_entry_ref"]["version"]) == ("CHCAI04", 1)
    summaries = [e.summary for e in intake.timeline if e.event_type == ICES_MESSAGE_ISSUED]
    assert summaries == [f"ICES CHCAI04 (processed BE) sent to {FILER} (http)"]


async def test_out_of_charge_sends_chcai07_once_with_the_ooc_number(
    uow_of: Callable[[], Any], book: Any
) -> None:
    """CHCAI07 on Out of Charge (p. 56; the record is the platform's: custom house, BE
    number and date, version, OOC number, OOC date (IST), mode, e-Gatepass), `.ooc`."""
    await _file_flat(uow_of, book)
    await _handle(uow_of, book, _facilitated())
    ooc = _ooc(issued_at="2025-03-20T20:30:00+00:00")  # 21 March in IST
    [sent] = await _handle(uow_of, book, ooc)
    number = ooc[1]["ooc_no"]
    sequence = f"{PORT}{BE_NO}2025032001"
    assert (sent["message_id"], sent["ooc_no"]) == ("CHCAI07", number)
    assert (sent["control_no"], sent["file_name"]) == (sequence, f"{sequence}.ooc")
    assert _record(sent["message"]) == [
        "F",
        PORT,
        BE_NO,
        "20250320",
        "1",
        number,
        "20250321",
        ooc[1]["mode"],
        ooc[1]["gatepass_no"],
    ]
    assert len(messages.OOC_FIELDS) == len(_record(sent["message"]))
    assert await _handle(uow_of, book, _ooc()) == []  # once


async def test_out_of_charge_of_a_version_never_seen_assessed_sends_chcai04_first(
    uow_of: Callable[[], Any], book: Any
) -> None:
    """Out of Charge presupposes the assessment (OOC-AUTO-1, OOC-EXAM-1): RMS chose
    examination only, so `assessed` never held; the broker still gets CHCAI04, then CHCAI07."""
    await _file_flat(uow_of, book)
    examined = _about(RMS_DECISION_MADE, 1, outcome="examination", selections=["examination"])
    assert await _handle(uow_of, book, examined) == []
    sent = await _handle(uow_of, book, _ooc())
    assert [m["message_id"] for m in sent] == ["CHCAI04", "CHCAI07"]
    assert {m["bill_of_entry_ref"]["version"] for m in sent} == {1}


async def test_a_json_filing_gets_no_ices_message(
    uow_of: Callable[[], Any], book: Any, intake: Any
) -> None:
    """A BE filed as JSON (its broker follows the notice topic): nothing on the ICES topic,
    nothing kept for it in the case."""
    filing = {**example(BILL_OF_ENTRY_FILED), "be_no": BE_NO, "be_date": BE_DATE}
    arrival = copy.deepcopy(example(IGM_ENTERED_INWARD))
    assert await _handle(uow_of, book, (IGM_ENTERED_INWARD, arrival)) == []
    assert await _handle(uow_of, book, (BILL_OF_ENTRY_FILED, filing)) == []
    assert await _handle(uow_of, book, _facilitated(), _ooc()) == []
    case = intake.case(IDENTITY)
    assert case.ooc is not None
    assert case.ices is None
    assert "ices" not in intake.saved[IDENTITY] or intake.saved[IDENTITY]["ices"] is None


async def test_a_fact_about_an_older_version_sends_nothing(
    uow_of: Callable[[], Any], book: Any
) -> None:
    """Amended before assessment (INTAKE-AMEND-1): version 2 is current; RMS's late decision
    about version 1 sends nothing, its decision about version 2 sends CHCAI04 of version 2."""
    await _file_flat(uow_of, book)
    amended = copy.deepcopy(example(BILL_OF_ENTRY_AMENDMENT_FILED))
    current = await _current(uow_of)
    current["importer_address"] = amended["bill_of_entry"]["importer_address"]
    amended["bill_of_entry"] = current
    assert await _handle(uow_of, book, (BILL_OF_ENTRY_AMENDMENT_FILED, amended)) == []
    assert await _handle(uow_of, book, _facilitated(version=1)) == []
    [sent] = await _handle(uow_of, book, _facilitated(version=2))
    assert sent["bill_of_entry_ref"]["version"] == 2
    assert sent["file_name"] == f"{PORT}{BE_NO}2025032002.chl"


async def _current(uow_of: Callable[[], Any]) -> dict[str, Any]:
    uow = uow_of()
    current = await uow.intake.current_bill_of_entry(IDENTITY)
    assert current is not None
    return dict(copy.deepcopy(current))


async def test_the_case_renders_the_latest_message_again_as_it_was_sent(
    uow_of: Callable[[], Any], book: Any, intake: Any
) -> None:
    """GET /ices/messages/... answers what the topic carried: the case keeps what it sent."""
    await _file_flat(uow_of, book, channel="inbox")
    [processed] = await _handle(uow_of, book, _facilitated())
    [ooc] = await _handle(uow_of, book, _ooc())
    case = IntakeCase.from_data(IDENTITY, intake.saved[IDENTITY])
    again = case.ices_message("CHCAI04")
    assert again is not None
    assert messages.issued(again) == processed
    later = case.ices_message("CHCAI07")
    assert later is not None
    assert messages.issued(later) == ooc
    assert ooc["channel"] == "inbox"
    assert IntakeCase(*IDENTITY).ices_message("CHCAI04") is None


async def test_a_message_of_a_be_filed_through_the_inbox_is_written_beside_its_ack(
    uow_of: Callable[[], Any], book: Any, tmp_path: Path
) -> None:
    """be-intake's consumer of its own topic writes the file where the broker's system
    waits (spec p. 11 names); a BE uploaded over HTTP gets no file."""
    table = handlers(book, inbox_writer(tmp_path))
    data = example(ICES_MESSAGE_ISSUED)
    await table[ICES_MESSAGE_ISSUED](event(ICES_MESSAGE_ISSUED, data), uow_of())
    written = tmp_path / data["file_name"]
    assert written.read_text(encoding="ascii") == data["message"]
    assert _names(tmp_path) == [data["file_name"]]  # no partial file left
    over_http = {**data, "channel": "http", "file_name": "INNSA150000022025032001.ooc"}
    await table[ICES_MESSAGE_ISSUED](event(ICES_MESSAGE_ISSUED, over_http), uow_of())
    assert not (tmp_path / over_http["file_name"]).exists()
    quiet = handlers(book)  # a replica without the inbox directory writes nothing
    await quiet[ICES_MESSAGE_ISSUED](event(ICES_MESSAGE_ISSUED, data), uow_of())


def test_the_topics_example_is_what_the_renderer_renders() -> None:
    """The contract's example CHCAI07 is the platform's record, rendered (p. 56)."""
    data = example(ICES_MESSAGE_ISSUED)
    ref = data["bill_of_entry_ref"]
    record = _record(data["message"])
    message = IcesMessage(
        ref=BillOfEntryRef(ref["port_code"], ref["be_no"], date.fromisoformat(ref["be_date"]), 1),
        message_id="CHCAI07",
        filer=data["filer"],
        to=data["filer"],
        channel=data["channel"],
        at=datetime.fromisoformat(data["issued_at"]),
        ooc={
            "ooc_no": record[5],
            "ooc_date": "2025-03-21",
            "mode": record[7],
            "gatepass_no": record[8],
        },
    )
    assert messages.issued(message) == data
