"""ICES 1.5 flat files through be-intake on real Kafka and PostgreSQL (issue 9): a broker's
CACHI01 uploaded over HTTP or dropped in the inbox directory registers the BE under the
platform's BE number and clears like a JSON filing, its broker getting CHCAI04 (processed
BE, spec p. 55) and CHCAI07 (out-of-charge BE, p. 56) on `clearance.ices-message.issued.v1`,
over HTTP, and for the inbox as files beside the `.ack`; a file at fault is answered with a
negative CHCAI02 (spec p. 53) and nothing flows downstream."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from be_intake.adapters.ices.samples import cachi01, with_ices_fields
from pipeline_harness import (
    GATEPASS,
    ICES_MESSAGE,
    REGISTERED,
    Pipeline,
    headers,
    key_of,
    new_bill_of_entry,
)

pytestmark = pytest.mark.e2e


def _flat_file(be: dict[str, Any], control_no: str) -> str:
    """The BE as its broker's software files it: no BE number yet (the platform assigns
    it, INTAKE-BE-1), the spec's fields the canonical BE has no name for filled in."""
    for doc in be.get("supporting_documents", []):
        doc.pop("standards", None)  # not carried by the flat file (README)
    return cachi01(with_ices_fields(be), control_no=control_no)


async def _upload(pipeline: Pipeline, name: str, text: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=30) as client:
        return await client.post(
            "/ices/messages",
            content=text.encode("ascii"),
            params={"name": name},
            headers={"content-type": "text/plain", **headers("filer")},
        )


def _inbox(pipeline: Pipeline) -> Path:
    return pipeline.services["be-intake"].config.data_dir / "ices-inbox"


async def _answer_in_inbox(inbox: Path, stem: str, timeout: float = 60) -> tuple[str, str]:
    async with asyncio.timeout(timeout):
        while True:
            for suffix in ("ack", "nak"):
                if (inbox / f"{stem}.{suffix}").exists():
                    return suffix, (inbox / f"{stem}.{suffix}").read_text(encoding="ascii")
            await asyncio.sleep(0.3)


async def _clears(pipeline: Pipeline, be: dict[str, Any], ref: dict[str, Any]) -> str:
    """The BE under the number the platform gave it: paid by the bank, it clears; its
    Out of Charge number (the e-Gatepass carries it)."""
    numbered = {**be, "be_no": ref["be_no"], "be_date": ref["be_date"]}
    [registered] = await pipeline.listener.wait_for(REGISTERED, key_of(numbered))
    assert orjson.loads(registered.value)["bill_of_entry"]["iec"] == be["iec"]
    await pipeline.pay(numbered)
    [gatepass] = await pipeline.listener.wait_for(GATEPASS, key_of(numbered), timeout=90)
    return str(orjson.loads(gatepass.value)["ooc_no"])


async def _ices_messages(
    pipeline: Pipeline, filer: str, ref: dict[str, Any], timeout: float = 60
) -> list[dict[str, Any]]:
    """CHCAI04 then CHCAI07 of the BE, as its filer's topic carries them (keyed by the
    filer, so the other BEs of the same broker are on it too)."""

    def mine() -> list[dict[str, Any]]:
        found = [orjson.loads(r.value) for r in pipeline.listener.for_key(ICES_MESSAGE, filer)]
        return [
            m
            for m in found
            if (m["bill_of_entry_ref"]["port_code"], m["bill_of_entry_ref"]["be_no"])
            == (ref["port_code"], ref["be_no"])
            and m["bill_of_entry_ref"]["be_date"] == ref["be_date"]
        ]

    async with asyncio.timeout(timeout):
        while [m["message_id"] for m in mine()][-1:] != ["CHCAI07"]:
            await asyncio.sleep(0.2)
    return mine()


def _record(message: str) -> list[str]:
    """The one data record of a CHCAI04 / CHCAI07 (between HREC and TREC, p. 9)."""
    [record] = message.rstrip("\n").split("\n")[1:-1]
    return record.split("\x1d")


def _check_messages(
    messages: list[dict[str, Any]], filer: str, ref: dict[str, Any], ooc_no: str
) -> None:
    """CHCAI04 (p. 55) before CHCAI07 (p. 56), once each, for version 1, named by the
    sequence (custom house, BE number, date, version: `.chl`, p. 11; `.ooc`, the platform's)."""
    assert [m["message_id"] for m in messages] == ["CHCAI04", "CHCAI07"]
    processed, ooc = messages
    sequence = f"{ref['port_code']}{ref['be_no']}{ref['be_date'].replace('-', '')}01"
    assert processed["file_name"] == f"{sequence}.chl"
    assert ooc["file_name"] == f"{sequence}.ooc"
    assert {m["filer"] for m in messages} == {filer}
    assert {m["bill_of_entry_ref"]["version"] for m in messages} == {1}
    assert _record(processed["message"])[:5] == [
        "F",
        ref["port_code"],
        ref["be_no"],
        ref["be_date"].replace("-", ""),
        filer,
    ]
    assert ooc["ooc_no"] == ooc_no
    assert _record(ooc["message"])[1:6] == [
        ref["port_code"],
        ref["be_no"],
        ref["be_date"].replace("-", ""),
        "1",
        ooc_no,
    ]


async def test_an_air_be_uploaded_over_http_is_numbered_and_clears(pipeline: Pipeline) -> None:
    """A home-consumption air BE (mode A) over the service centre's upload: 202 with the
    positive CHCAI02 (error code 00) naming the BE number; it registers and clears."""
    be = new_bill_of_entry("H", mode_of_transport="A")
    await pipeline.facts_before(be)
    response = await _upload(pipeline, f"{be['user_job_no']}2025.be", _flat_file(be, "200001"))
    assert response.status_code == 202, response.text
    ack = response.json()
    assert ack["outcome"] == "registered"
    assert ack["error_codes"] == ["00"]
    assert ack["acknowledgement_file"].endswith(".ack")
    assert ack["bill_of_entry_ref"]["be_no"] in ack["acknowledgement"]
    ref = ack["bill_of_entry_ref"]
    ooc_no = await _clears(pipeline, be, ref)
    messages = await _ices_messages(pipeline, ack["filer"], ref)
    _check_messages(messages, ack["filer"], ref, ooc_no)
    assert {m["channel"] for m in messages} == {"http"}
    # and the broker's system may pull them (text/plain, the same flat file)
    path = f"/ices/messages/{ref['port_code']}/{ref['be_no']}/{ref['be_date']}"
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=30) as client:
        for sent in messages:
            pulled = await client.get(f"{path}/{sent['message_id']}", headers=headers("filer"))
            assert pulled.status_code == 200, pulled.text
            assert pulled.text == sent["message"]
            assert sent["file_name"] in pulled.headers["content-disposition"]
        unknown = await client.get(
            f"/ices/messages/{ref['port_code']}/9999999/{ref['be_date']}/CHCAI07",
            headers=headers("filer"),
        )
        assert unknown.status_code == 404, unknown.text


async def test_an_air_be_dropped_in_the_inbox_gets_chcai04_and_chcai07_beside_its_ack(
    pipeline: Pipeline,
) -> None:
    """A home-consumption air BE through the inbox directory that clears: CHCAI04 (p. 55)
    and CHCAI07 (p. 56) appear beside its `.ack` as `<sequence>.chl` and `<sequence>.ooc`,
    the same text as the topic carried; a BE filed as JSON meanwhile gets nothing there."""
    by_json = new_bill_of_entry("H", mode_of_transport="A")
    await pipeline.file(by_json)  # the same broker, filing as JSON
    be = new_bill_of_entry("H", mode_of_transport="A")
    await pipeline.facts_before(be)
    inbox = _inbox(pipeline)
    stem = f"{be['user_job_no']}2025"
    (inbox / f".{stem}.part").write_text(_flat_file(be, "200005"), encoding="ascii")
    (inbox / f".{stem}.part").rename(inbox / f"{stem}.be")
    kind, text = await _answer_in_inbox(inbox, stem)
    assert kind == "ack", text
    status = await _status_by_job(pipeline, be)
    ref = status["bill_of_entry_ref"]
    ooc_no = await _clears(pipeline, be, ref)
    filer = be["customs_broker_code"]
    messages = await _ices_messages(pipeline, filer, ref)
    _check_messages(messages, filer, ref, ooc_no)
    assert {m["channel"] for m in messages} == {"inbox"}
    for sent in messages:
        written = await _file_in_inbox(inbox, sent["file_name"])
        assert written == sent["message"]
    await pipeline.status_when(by_json, lambda s: s["status"] == "gatepass_issued", timeout=90)
    json_messages = [
        m
        for m in (orjson.loads(r.value) for r in pipeline.listener.records[ICES_MESSAGE])
        if m["bill_of_entry_ref"]["be_no"] == by_json["be_no"]
    ]
    assert json_messages == []


async def _file_in_inbox(inbox: Path, name: str, timeout: float = 60) -> str:
    async with asyncio.timeout(timeout):
        while not (inbox / name).exists():
            await asyncio.sleep(0.3)
    return (inbox / name).read_text(encoding="ascii")


async def test_a_warehousing_sea_be_with_containers_dropped_in_the_inbox_is_answered_beside_it(
    pipeline: Pipeline,
) -> None:
    """A warehousing sea BE (type W) with its containers, dropped in the inbox directory
    under the spec's file name: `.ack` beside it, the BE registered with its containers."""
    be = new_bill_of_entry("W")
    for container in be["containers"]:
        # CONTAINER field 11 'Seal Number' is C10 (spec p. 37): the RFID seal's
        # `ABCD XXXX XXXX` (SEAL-FMT-1) does not fit, so the file carries the bottle seal.
        container["seal_no"] = container["seal_no"].replace(" ", "")[:10]
    await pipeline.facts_before(be)
    inbox = _inbox(pipeline)
    stem = f"{be['user_job_no']}2025"
    (inbox / f".{stem}.part").write_text(_flat_file(be, "200002"), encoding="ascii")
    (inbox / f".{stem}.part").rename(inbox / f"{stem}.be")
    kind, text = await _answer_in_inbox(inbox, stem)
    assert kind == "ack", text
    status = await _status_by_job(pipeline, be)
    assert status["bill_of_entry_ref"]["be_no"] in text
    numbered = {**be, **{k: status["bill_of_entry_ref"][k] for k in ("be_no", "be_date")}}
    [registered] = await pipeline.listener.wait_for(REGISTERED, key_of(numbered))
    filed = orjson.loads(registered.value)["bill_of_entry"]
    assert [c["container_no"] for c in filed["containers"]] == [
        c["container_no"] for c in be["containers"]
    ]


async def test_a_file_at_fault_gets_a_nak_with_every_fault_and_nothing_flows(
    pipeline: Pipeline,
) -> None:
    """A control number that differs between HREC and TREC, and a truncated file: each a
    negative CHCAI02 naming line, segment and what was expected, over HTTP (422) and in
    the inbox (`.nak`); no BE is registered for either."""
    be = new_bill_of_entry("H")
    text = _flat_file(be, "200003")
    mismatched = text.replace("200003", "200004", 1) if text.count("200003") > 1 else text + "X"
    response = await _upload(pipeline, f"{be['user_job_no']}2025.be", mismatched)
    assert response.status_code == 422, response.text
    nak = response.json()
    assert nak["outcome"] == "rejected"
    assert nak["faults"]
    assert all(f["expected"] for f in nak["faults"])
    assert nak["bill_of_entry_ref"] is None

    inbox = _inbox(pipeline)
    stem = f"{int(be['user_job_no']) + 1}2025"
    (inbox / f"{stem}.be").write_text(text[: len(text) // 2], encoding="ascii")
    kind, answer = await _answer_in_inbox(inbox, stem)
    assert kind == "nak", answer
    await asyncio.sleep(3)
    iecs = [
        orjson.loads(r.value)["bill_of_entry"]["iec"] for r in pipeline.listener.records[REGISTERED]
    ]
    assert be["iec"] not in iecs


async def _status_by_job(pipeline: Pipeline, be: dict[str, Any]) -> dict[str, Any]:
    """The BE be-intake registered for this importer (the search by IEC)."""
    async with asyncio.timeout(60):
        while True:
            found = (await pipeline.get("/bills-of-entry", iec=be["iec"])).json()
            if found["bills_of_entry"]:
                [summary] = found["bills_of_entry"]
                return dict(summary)
            await asyncio.sleep(0.3)
