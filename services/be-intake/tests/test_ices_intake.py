"""The ICES path of be-intake with in-memory fakes (issue 9): a CACHI01 gets a BE number
from the custom house's sequence and the same rules as the JSON path (INTAKE-BE-1); a
file at fault registers nothing; every answer is a CHCAI02 and an event."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from be_intake.adapters.ices import flatfile, spec
from be_intake.adapters.ices.samples import cachi01, cachi01_a, example_be
from be_intake.entrypoints.ices import watch_inbox
from be_intake.service_layer import ices
from be_intake.service_layer.handlers import handlers
from clearance_contracts import (
    ASSESSMENT_ROUTING_PUBLISHED,
    BILL_OF_ENTRY_REGISTERED,
    example,
    validate_event,
)
from clearance_runtime.testing import event

pytestmark = pytest.mark.unit


def runner(uow_of: Callable[[], Any], seen: list[Any]) -> Callable[[], Any]:
    @asynccontextmanager
    async def unit_of_work() -> AsyncIterator[Any]:
        uow = uow_of()
        seen.append(uow)
        yield uow
        await uow.commit()

    return unit_of_work


def published(seen: list[Any], event_type: str) -> list[dict[str, Any]]:
    return [e.data for uow in seen for e in uow.published if e.type == event_type]


async def test_a_fresh_be_is_registered_with_the_next_be_number_of_its_custom_house(
    uow_of: Callable[[], Any], book: Any
) -> None:
    """INTAKE-BE-1; CHCAI02 positive (p. 53): error code 00, BE number and date."""
    seen: list[Any] = []
    ack = await ices.receive(
        runner(uow_of, seen),
        book,
        cachi01(example_be()).encode(),
        name="401272025.be",
        channel="http",
    )
    assert (ack.outcome, ack.file_name) == ("registered", "401272025.ack")
    assert ack.ref is not None
    assert ack.ref.be_no == "5000001"
    [record] = [r for r in ack.text.split("\n") if r.startswith("F" + spec.DELIMITER)]
    values = record.split(spec.DELIMITER)
    assert len(values) == 24
    assert (values[4], values[19]) == ("5000001", "00")
    [registered] = published(seen, BILL_OF_ENTRY_REGISTERED)
    assert registered["bill_of_entry_ref"]["be_no"] == "5000001"
    [event] = published(seen, ices.ICES_ACKNOWLEDGEMENT_ISSUED)
    validate_event(ices.ICES_ACKNOWLEDGEMENT_ISSUED, event)


async def test_the_same_job_again_is_a_duplicate_with_the_same_be_number(
    uow_of: Callable[[], Any], book: Any
) -> None:
    seen: list[Any] = []
    raw = cachi01(example_be()).encode()
    first = await ices.receive(runner(uow_of, seen), book, raw, name="1.be", channel="inbox")
    again = await ices.receive(runner(uow_of, seen), book, raw, name="2.be", channel="inbox")
    assert again.outcome == "duplicate"
    assert again.ref is not None
    assert first.ref is not None
    assert again.ref.be_no == first.ref.be_no


async def test_a_file_at_fault_registers_nothing_and_is_answered_with_a_nak(
    uow_of: Callable[[], Any], book: Any
) -> None:
    seen: list[Any] = []
    raw = (
        cachi01(example_be())
        .replace("TREC" + spec.DELIMITER + "100001", "TREC" + spec.DELIMITER + "9")
        .encode()
    )
    ack = await ices.receive(runner(uow_of, seen), book, raw, name="40127.be", channel="http")
    assert (ack.outcome, ack.file_name) == ("rejected", "40127.nak")
    assert ack.faults[0]["code"] == "04"
    assert published(seen, BILL_OF_ENTRY_REGISTERED) == []
    [event] = published(seen, ices.ICES_ACKNOWLEDGEMENT_ISSUED)
    assert event["error_codes"] == ["04"]


async def test_a_be_broken_on_intake_rules_gets_a_nak_with_each_rule(
    uow_of: Callable[[], Any], book: Any
) -> None:
    """INTAKE-BE-2: a warehousing BE without its warehouse code, as the JSON path says."""
    be = example_be()
    be["be_type"] = "W"
    seen: list[Any] = []
    ack = await ices.receive(
        runner(uow_of, seen), book, cachi01(be).encode(), name="7.be", channel="http"
    )
    assert ack.outcome == "rejected"
    assert any(f["code"] == "30" and "INTAKE-BE-2" in f["expected"] for f in ack.faults)
    assert published(seen, BILL_OF_ENTRY_REGISTERED) == []
    assert "30" in ack.text.split(spec.DELIMITER)


async def test_an_amendment_changes_the_registered_be_and_acknowledges_its_number(
    uow_of: Callable[[], Any], book: Any
) -> None:
    """CACHI01_A (p. 39): A_ITEM changes item 1's quantity; CHCAI02 with amendment no 1."""
    seen: list[Any] = []
    first = await ices.receive(
        runner(uow_of, seen), book, cachi01(example_be()).encode(), name="1.be", channel="http"
    )
    assert first.ref is not None
    be_date = first.ref.be_date.strftime("%Y%m%d")
    items = [""] * len(spec.ITEMS.fields)
    items[0:8] = ["A", "INNSA1", "", "", first.ref.be_no, be_date, "1", "1"]
    items[8], items[19] = "650", "TRADING"  # field 20 end use: M in mode A (p. 24)
    amend = [
        "A",
        "INNSA1",
        "40127",
        "20250320",
        first.ref.be_no,
        be_date,
        "A_ITEM",
        "quantity per packing list",
        "L-1",
        "20250320",
    ]
    header = flatfile.Header(
        "AABCJ2231PCH001", "INNSA1", False, spec.AMENDMENT, "200001", "20250320", "1200"
    )
    text = flatfile.envelope(
        header,
        ["<TABLE>AMEND", spec.DELIMITER.join(amend), "<TABLE>ITEMS", spec.DELIMITER.join(items)],
    )
    ack = await ices.receive(
        runner(uow_of, seen), book, text.encode(), name="1.beamd", channel="http"
    )
    assert ack.outcome == "registered", ack.faults
    assert ack.ref is not None
    assert ack.ref.version == 2
    [record] = [r for r in ack.text.split("\n") if r.startswith("F" + spec.DELIMITER)]
    assert record.split(spec.DELIMITER)[20] == "1"
    versions = published(seen, BILL_OF_ENTRY_REGISTERED)
    assert versions[-1]["amendment"]["changed_elements"]


async def test_an_amendment_in_the_inbox_named_after_its_job_is_answered_beside_the_be(
    uow_of: Callable[[], Any], book: Any, tmp_path: Path
) -> None:
    """The spec names a BE and its amendment after the same job (`<jobno><year>.be`,
    `<jobno><year>.beamd`, p. 10): the amendment is read although the BE's `.ack` is there,
    and answered as `<name>.beamd.ack`, the BE's `.ack` left as it was."""
    seen: list[Any] = []
    scan = watch_inbox(tmp_path, runner(uow_of, seen), book)
    (tmp_path / "401272025.be").write_text(cachi01(example_be()), encoding="ascii")
    await scan()
    fresh = (tmp_path / "401272025.ack").read_text(encoding="ascii")
    [registered] = published(seen, BILL_OF_ENTRY_REGISTERED)
    before = example_be() | {
        k: registered["bill_of_entry_ref"][k] for k in ("port_code", "be_no", "be_date")
    }
    after = copy.deepcopy(before)
    after["invoices"][0]["items"][0]["quantity"] = 650
    amendment = cachi01_a(before, after, reason="quantity per packing list", letter_no="L-1")
    (tmp_path / "401272025.beamd").write_text(amendment, encoding="ascii")
    await scan()
    answer = (tmp_path / "401272025.beamd.ack").read_text(encoding="ascii")
    [record] = [r for r in answer.split("\n") if r.startswith("F" + spec.DELIMITER)]
    values = record.split(spec.DELIMITER)
    assert (values[4], values[19], values[20]) == (
        registered["bill_of_entry_ref"]["be_no"],
        "00",
        "1",
    )
    assert (tmp_path / "401272025.ack").read_text(encoding="ascii") == fresh
    assert [
        e["bill_of_entry_ref"]["version"] for e in published(seen, BILL_OF_ENTRY_REGISTERED)
    ] == [1, 2]
    await scan()  # answered: not read again
    assert len(published(seen, ices.ICES_ACKNOWLEDGEMENT_ISSUED)) == 2


# -- the appraising group (CHCAI02 field 23, p. 53; RMS-FAG-1) --------------------------------


def _field_23(text: str) -> str:
    [record] = [r for r in text.split("\n") if r.startswith("F" + spec.DELIMITER)]
    return record.split(spec.DELIMITER)[22]


async def _consume_routing(uow_of: Callable[[], Any], book: Any, data: dict[str, Any]) -> None:
    """rms-router's routing of a rule-set version, consumed as be-intake consumes it."""
    table = handlers(book)
    uow = uow_of()
    await table[ASSESSMENT_ROUTING_PUBLISHED](event(ASSESSMENT_ROUTING_PUBLISHED, data), uow)
    await uow.commit()


def _routing_v2() -> dict[str, Any]:
    """An administrator's rule-set version 2 from 2025-04-01: heading 8517-8531 to 5X."""
    v2 = copy.deepcopy(example(ASSESSMENT_ROUTING_PUBLISHED))
    v2.update(
        routing_id="rms-rule-set/2",
        rule_set={"policy_id": "rms-rule-set", "version": 2},
        effective_from="2025-04-01T00:00:00+05:30",
    )
    for line in v2["groups"]:
        if line["group"] == "5C":
            line["group"] = "5X"
    return v2


async def _acknowledge(uow_of: Callable[[], Any], book: Any, be: dict[str, Any]) -> Any:
    seen: list[Any] = []
    name = f"{be['user_job_no']}2025.be"
    ack = await ices.receive(
        runner(uow_of, seen), book, cachi01(be).encode(), name=name, channel="http"
    )
    assert ack.outcome == "registered", ack.text
    [data] = published(seen, ices.ICES_ACKNOWLEDGEMENT_ISSUED)
    validate_event(ices.ICES_ACKNOWLEDGEMENT_ISSUED, data)
    assert data["appraising_group"] == (_field_23(ack.text) or None)
    return ack


async def test_rms_fag_1_without_rms_routers_routing_the_appraising_group_stays_empty(
    uow_of: Callable[[], Any], book: Any
) -> None:
    """No `clearance.assessment-routing.published.v1` consumed yet: field 23 empty."""
    ack = await _acknowledge(uow_of, book, example_be())
    assert _field_23(ack.text) == ""
    assert ack.data["appraising_group"] is None


async def test_rms_fag_1_the_ack_carries_the_group_rms_router_routes_the_be_to(
    uow_of: Callable[[], Any], book: Any
) -> None:
    """The example BE's items are CTH 85258090 (chapter 85, heading 8525): group 5C of
    rms-router's published table; a BE whose most valuable item is of heading 9006 gets 5I."""
    await _consume_routing(uow_of, book, example(ASSESSMENT_ROUTING_PUBLISHED))
    ack = await _acknowledge(uow_of, book, example_be())
    assert _field_23(ack.text) == "5C"
    assert ack.data["appraising_group"] == "5C"

    camera = example_be()
    camera["user_job_no"] = "40128"
    camera["invoices"][0]["items"][1].update(cth="90069100", unit_price=1000)
    assert _field_23((await _acknowledge(uow_of, book, camera)).text) == "5I"

    unlisted = example_be()  # a heading the table does not list: the port's group, none named
    unlisted["user_job_no"] = "40129"
    for item in unlisted["invoices"][0]["items"]:
        item["cth"] = "39269099"
    assert _field_23((await _acknowledge(uow_of, book, unlisted)).text) == ""


async def test_rms_fag_1_the_rule_set_version_in_force_on_the_be_date_decides(
    uow_of: Callable[[], Any], book: Any, clock: Any
) -> None:
    """Version 1 (from 2020) routes heading 8525 to 5C, version 2 (from 2025-04-01) to 5X:
    a BE dated 2025-03-20 gets 5C, one dated 2025-04-02 gets 5X."""
    await _consume_routing(uow_of, book, example(ASSESSMENT_ROUTING_PUBLISHED))
    await _consume_routing(uow_of, book, _routing_v2())
    before = await _acknowledge(uow_of, book, example_be())
    assert before.ref.be_date.isoformat() == "2025-03-20"
    assert _field_23(before.text) == "5C"
    clock.set(datetime(2025, 4, 2, 6, 0, tzinfo=UTC))
    after_be = example_be()
    after_be["user_job_no"] = "40130"
    after = await _acknowledge(uow_of, book, after_be)
    assert after.ref.be_date.isoformat() == "2025-04-02"
    assert _field_23(after.text) == "5X"


def test_a_file_names_whom_it_files_for_so_the_upload_can_check_the_uploader() -> None:
    """Issue 14: a fresh BE files for its CB code and IEC, an amendment for its sender (whom
    the amendment is tied to, code 19); an unreadable file for nobody (its NAK says why)."""
    be = example_be()
    fresh = cachi01(be).encode()
    assert ices.filed_as(fresh) == (be["customs_broker_code"], be["iec"])
    before = {**be, "be_no": "4000127", "be_date": "2025-03-20"}
    after = copy.deepcopy(before)
    after["invoices"][0]["items"][0]["quantity"] = 650
    amendment = cachi01_a(before, after, reason="TYPO", letter_no="1", sender="AAGCS4417M")
    assert ices.filed_as(amendment.encode()) == ("AAGCS4417M", "AAGCS4417M")
    assert ices.filed_as(b"not a flat file") is None
