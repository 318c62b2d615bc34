"""ICES 1.5 flat files through be-intake on real Kafka and PostgreSQL (issue 9): a broker's
CACHI01 uploaded over HTTP or dropped in the inbox directory registers the BE under the
platform's BE number and clears like a JSON filing, its broker getting CHCAI04 (processed
BE, spec p. 55) and CHCAI07 (out-of-charge BE, p. 56) on `clearance.ices-message.issued.v1`,
over HTTP, and for the inbox as files beside the `.ack`; a BE under a permanent IEC
(INTAKE-IEC-2) registers, one outside its category is refused; an amendment CACHI01_A
(p. 39) registers version 2 under the same BE number; a file at fault, or an amendment of
a BE not the sender's, is answered with a negative CHCAI02 (spec p. 53) and nothing flows
downstream. Each through both channels."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from be_intake.adapters.ices.samples import cachi01, cachi01_a, with_ices_fields
from clearance_domain.assessment_routing import AssessmentRouting, routed_items
from pipeline_harness import (
    ADMINISTRATOR,
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


async def _routing_held(pipeline: Pipeline, timeout: float = 60) -> list[dict[str, Any]]:
    """rms-router's assessment routing as be-intake holds it, once it holds some (rms-router
    publishes it at start-up on clearance.assessment-routing.published.v1)."""
    async with asyncio.timeout(timeout):
        while True:
            response = await pipeline.get("/assessment-routing")
            assert response.status_code == 200, response.text
            if response.json()["versions"]:
                return list(response.json()["versions"])
            await asyncio.sleep(0.3)


async def _group_rms_router_routes(pipeline: Pipeline, be: dict[str, Any]) -> str | None:
    """RMS-FAG-1 from rms-router's own rule set in force (its administration API)."""
    async with httpx.AsyncClient(base_url=pipeline.services["rms-router"].url) as client:
        index = (await client.get("/admin/policies", headers=ADMINISTRATOR)).json()
        versions = (await client.get("/admin/policies/rms-rule-set", headers=ADMINISTRATOR)).json()
    [number] = [p["in_force_now"] for p in index if p["policy_id"] == "rms-rule-set"]
    [body] = [v["body"] for v in versions if v["version"] == number]
    _, line = AssessmentRouting.parse(body["assessment_groups"]).route(routed_items(be))
    return None if line is None else line.group


async def test_an_air_be_uploaded_over_http_is_numbered_and_clears(pipeline: Pipeline) -> None:
    """A home-consumption air BE (mode A) over the service centre's upload: 202 with the
    positive CHCAI02 (error code 00) naming the BE number and the appraising group (field
    23) rms-router's routing table gives its items' heading (RMS-FAG-1; the harness's CTH
    85299090: heading 8529, group 5C); it registers and clears."""
    be = new_bill_of_entry("H", mode_of_transport="A")
    await pipeline.facts_before(be)
    await _routing_held(pipeline)
    response = await _upload(pipeline, f"{be['user_job_no']}2025.be", _flat_file(be, "200001"))
    assert response.status_code == 202, response.text
    ack = response.json()
    assert ack["outcome"] == "registered"
    assert ack["error_codes"] == ["00"]
    assert ack["acknowledgement_file"].endswith(".ack")
    assert ack["bill_of_entry_ref"]["be_no"] in ack["acknowledgement"]
    group = await _group_rms_router_routes(pipeline, be)
    assert group == "5C"
    [record] = _ack_records(ack["acknowledgement"])
    assert record[22] == group  # field 23 'Appraising Group' (C3, p. 53)
    assert ack["appraising_group"] == group
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


async def test_a_filer_uploads_no_be_of_another_cb_code_or_iec(pipeline: Pipeline) -> None:
    """Issue 14: the file's CB code and IEC must be the uploader's (its token's `cb_code` /
    `iec` claims); another broker's file is a 403 and registers nothing."""
    be = new_bill_of_entry("H", mode_of_transport="A")
    other = headers("filer", "filer-other-broker", cb_code="AAACZ9999ZCH001")
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=30) as client:
        refused = await client.post(
            "/ices/messages",
            content=_flat_file(be, "200009").encode("ascii"),
            params={"name": f"{be['user_job_no']}2025.be"},
            headers={"content-type": "text/plain", **other},
        )
    assert refused.status_code == 403, refused.text
    assert "CB code or IEC" in refused.json()["detail"]
    await _nothing_registered(pipeline, be)


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


# -- acknowledgements (CHCAI02, spec pp. 53-55) -----------------------------------------------

GS = "\x1d"  # ASCII 29, the field delimiter (p. 10)


def _ack_records(text: str) -> list[list[str]]:
    """The data records of a CHCAI02 (between HREC and TREC, p. 9), field by field."""
    return [line.split(GS) for line in text.rstrip("\n").split("\n")[1:-1]]


def _error_codes(text: str) -> set[str]:
    """Field 20 'Error Code' of every record (several joined by '|', p. 55)."""
    return {code for record in _ack_records(text) for code in record[19].split("|")}


def _acknowledged_ref(text: str) -> dict[str, str]:
    """Custom house, BE number and date of a positive CHCAI02 (fields 2, 5, 6; p. 53)."""
    [(port_code, be_no, be_date)] = {(r[1], r[4], r[5]) for r in _ack_records(text)}
    iso = f"{be_date[:4]}-{be_date[4:6]}-{be_date[6:]}"
    return {"port_code": port_code, "be_no": be_no, "be_date": iso}


def _drop(inbox: Path, name: str, text: str) -> None:
    """A file dropped whole in the inbox (written under a name the watcher skips, renamed)."""
    (inbox / f".{name}.part").write_text(text, encoding="ascii")
    (inbox / f".{name}.part").rename(inbox / name)


def _numbered(be: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    return {**be, "be_no": ref["be_no"], "be_date": ref["be_date"]}


async def _registered(
    pipeline: Pipeline, be: dict[str, Any], ref: dict[str, Any], version: int = 1
) -> dict[str, Any]:
    """The `clearance.bill-of-entry.registered.v1` of that version of the BE."""
    key = key_of(_numbered(be, ref))

    def found() -> list[dict[str, Any]]:
        events = (orjson.loads(r.value) for r in pipeline.listener.for_key(REGISTERED, key))
        return [e for e in events if e["bill_of_entry_ref"]["version"] == version]

    async with asyncio.timeout(60):
        while not found():
            await asyncio.sleep(0.1)
    return found()[0]


async def _nothing_registered(pipeline: Pipeline, *filings: dict[str, Any]) -> None:
    """No BE of these importers' jobs is registered (after a moment for stragglers)."""
    await asyncio.sleep(3)
    registered = {
        (e["bill_of_entry"]["iec"], e["bill_of_entry"]["user_job_no"])
        for e in (orjson.loads(r.value) for r in pipeline.listener.records[REGISTERED])
    }
    assert not {(be["iec"], be["user_job_no"]) for be in filings} & registered


# -- permanent IECs (INTAKE-IEC-2) ------------------------------------------------------------


def _under_permanent_iec(iec: str, importer_type: str = "G") -> dict[str, Any]:
    """An air BE of an exempt category under its permanent IEC (INTAKE-IEC-2, 002), with the
    importer type the category requires (BE field 18, p. 13: G 'Government Departments (both
    Centre & State)', p. 15). No AEO tier: no certificate is issued to a category's shared
    code, and the flat file carries no claim."""
    return new_bill_of_entry(
        "H",
        mode_of_transport="A",
        iec=iec,
        importer_type=importer_type,
        importer_name="MINISTRY OF HOME AFFAIRS (TEST DATA)",
        aeo_tier=None,
    )


async def test_a_central_government_be_under_its_permanent_iec_over_http_is_registered(
    pipeline: Pipeline,
) -> None:
    """INTAKE-IEC-2: a central government department imports under AMDCG0111E, importer type
    G. Uploaded over HTTP: 202 with the positive CHCAI02 (error code 00, p. 53) naming the
    BE number the platform gave it; the registered BE carries the permanent IEC, and the
    status view shows no AEO certificate."""
    be = _under_permanent_iec("AMDCG0111E")
    await pipeline.facts_before(be)
    response = await _upload(pipeline, f"{be['user_job_no']}2025.be", _flat_file(be, "200011"))
    assert response.status_code == 202, response.text
    ack = response.json()
    assert (ack["outcome"], ack["error_codes"]) == ("registered", ["00"])
    ref = ack["bill_of_entry_ref"]
    assert _acknowledged_ref(ack["acknowledgement"]) == {
        k: ref[k] for k in ("port_code", "be_no", "be_date")
    }
    registered = await _registered(pipeline, be, ref)
    filed = registered["bill_of_entry"]
    assert (filed["iec"], filed["importer_type"]) == ("AMDCG0111E", "G")
    assert filed["user_job_no"] == be["user_job_no"]
    status = (await pipeline.status(_numbered(be, ref))).json()
    assert (status["iec"], status["aeo_certificate"]) == ("AMDCG0111E", None)


async def test_a_state_government_be_under_its_permanent_iec_dropped_in_the_inbox_is_registered(
    pipeline: Pipeline,
) -> None:
    """INTAKE-IEC-2: a state government department under ADSGA0129E, importer type G, through
    the inbox directory: `.ack` beside the file, error code 00 and the BE number (p. 53);
    the registered BE under that number carries the permanent IEC."""
    be = _under_permanent_iec("ADSGA0129E")
    await pipeline.facts_before(be)
    inbox = _inbox(pipeline)
    stem = f"{be['user_job_no']}2025"
    _drop(inbox, f"{stem}.be", _flat_file(be, "200012"))
    kind, text = await _answer_in_inbox(inbox, stem)
    assert kind == "ack", text
    assert _error_codes(text) == {"00"}
    ref = _acknowledged_ref(text)
    registered = await _registered(pipeline, be, ref)
    filed = registered["bill_of_entry"]
    assert (filed["iec"], filed["importer_type"], filed["user_job_no"]) == (
        "ADSGA0129E",
        "G",
        be["user_job_no"],
    )


async def test_a_permanent_iec_outside_its_category_is_refused_and_nothing_flows(
    pipeline: Pipeline,
) -> None:
    """INTAKE-IEC-2: a permanent IEC only for its category. A private importer (type P)
    under the central government's AMDCG0111E, over HTTP: 422, the negative CHCAI02 with
    code 30 (rejected on the intake rules) and the fault citing INTAKE-IEC-2; the state
    government's ADSGA0129E used so in the inbox: `.nak` with code 30. Neither registered."""
    be = _under_permanent_iec("AMDCG0111E", importer_type="P")
    await pipeline.facts_before(be)
    response = await _upload(pipeline, f"{be['user_job_no']}2025.be", _flat_file(be, "200017"))
    assert response.status_code == 422, response.text
    nak = response.json()
    assert (nak["outcome"], nak["error_codes"], nak["bill_of_entry_ref"]) == (
        "rejected",
        ["30"],
        None,
    )
    assert nak["acknowledgement_file"].endswith(".nak")
    [fault] = nak["faults"]
    assert fault["expected"].startswith("INTAKE-IEC-2: ")
    assert "AMDCG0111E" in fault["expected"]
    assert "importer type P" in fault["expected"]
    assert _error_codes(nak["acknowledgement"]) == {"30"}

    state = _under_permanent_iec("ADSGA0129E", importer_type="P")
    await pipeline.facts_before(state)
    inbox = _inbox(pipeline)
    stem = f"{state['user_job_no']}2025"
    _drop(inbox, f"{stem}.be", _flat_file(state, "200018"))
    kind, text = await _answer_in_inbox(inbox, stem)
    assert kind == "nak", text
    assert _error_codes(text) == {"30"}
    await _nothing_registered(pipeline, be, state)


# -- amendments CACHI01_A (spec p. 39, `<jobno><year>.beamd`, pp. 10-11) ----------------------


def _versions(be: dict[str, Any], ref: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The BE as its file registered it under its BE number, and a copy to amend."""
    before = _numbered(with_ices_fields(be), ref)
    return before, copy.deepcopy(before)


async def _version_2(
    pipeline: Pipeline, be: dict[str, Any], ref: dict[str, Any], quantity: int
) -> None:
    """Version 2 registered under the same BE number with item 1's new quantity, the
    amendment naming what changed (INTAKE-AMEND-1), and the status view at version 2."""
    registered = await _registered(pipeline, be, ref, version=2)
    assert registered["bill_of_entry"]["invoices"][0]["items"][0]["quantity"] == quantity
    assert registered["amendment"]["amendment_no"] == 1
    assert "invoices[0].items[0].quantity" in registered["amendment"]["changed_elements"]
    status = await pipeline.status_when(
        _numbered(be, ref), lambda s: s["bill_of_entry_ref"]["version"] == 2
    )
    assert status["bill_of_entry_ref"]["be_no"] == ref["be_no"]


def _amendment_ack(text: str, ref: dict[str, Any]) -> None:
    """A positive CHCAI02 of an amendment (pp. 53-54): the BE's number and date, error code
    00, amendment number 1 (field 21), a record per amended segment (field 24)."""
    records = _ack_records(text)
    assert {(r[4], r[19], r[20], r[23]) for r in records} == {(ref["be_no"], "00", "1", "ITEMS")}
    assert _acknowledged_ref(text) == {k: ref[k] for k in ("port_code", "be_no", "be_date")}


async def test_an_amendment_uploaded_over_http_registers_version_2_under_the_same_number(
    pipeline: Pipeline,
) -> None:
    """A BE registered from its CACHI01 over HTTP, then its CACHI01_A (`<job>.beamd`): A_ITEM
    changes item 1's quantity (ITEMS field 9, p. 24) before Out of Charge, so it registers
    at once (INTAKE-AMEND-1): 202 with the positive CHCAI02 under the same BE number,
    `<job>.beamd.ack`; version 2 on the registered topic; the status view at version 2."""
    be = new_bill_of_entry("H", mode_of_transport="A")
    await pipeline.facts_before(be)
    job = f"{be['user_job_no']}2025"
    first = await _upload(pipeline, f"{job}.be", _flat_file(be, "200013"))
    assert first.status_code == 202, first.text
    ref = first.json()["bill_of_entry_ref"]
    await _registered(pipeline, be, ref)
    before, after = _versions(be, ref)
    after["invoices"][0]["items"][0]["quantity"] += 50
    text = cachi01_a(
        before, after, reason="QUANTITY AS PER PACKING LIST", letter_no="L-13", control_no="200014"
    )
    response = await _upload(pipeline, f"{job}.beamd", text)
    assert response.status_code == 202, response.text
    ack = response.json()
    assert (ack["outcome"], ack["error_codes"]) == ("registered", ["00"])
    assert ack["bill_of_entry_ref"] == {**ref, "version": 2}
    assert ack["acknowledgement_file"] == f"{job}.beamd.ack"
    _amendment_ack(ack["acknowledgement"], ref)
    await _version_2(pipeline, be, ref, after["invoices"][0]["items"][0]["quantity"])


async def test_an_amendment_dropped_in_the_inbox_beside_its_be_registers_version_2(
    pipeline: Pipeline,
) -> None:
    """The spec names a BE and its amendment after the same job (`<jobno><year>.be`,
    `<jobno><year>.beamd`, p. 10): dropped beside the BE and its `.ack`, the amendment is
    answered as `<jobno><year>.beamd.ack` (positive, same BE number), the BE's `.ack` left
    as it was; version 2 registered; the status view at version 2."""
    be = new_bill_of_entry("H", mode_of_transport="A")
    await pipeline.facts_before(be)
    inbox = _inbox(pipeline)
    stem = f"{be['user_job_no']}2025"
    _drop(inbox, f"{stem}.be", _flat_file(be, "200015"))
    kind, fresh = await _answer_in_inbox(inbox, stem)
    assert kind == "ack", fresh
    ref = _acknowledged_ref(fresh)
    await _registered(pipeline, be, ref)
    before, after = _versions(be, ref)
    after["invoices"][0]["items"][0]["quantity"] += 25
    text = cachi01_a(
        before, after, reason="QUANTITY AS PER PACKING LIST", letter_no="L-15", control_no="200016"
    )
    _drop(inbox, f"{stem}.beamd", text)
    kind, answer = await _answer_in_inbox(inbox, f"{stem}.beamd")
    assert kind == "ack", answer
    _amendment_ack(answer, ref)
    assert (inbox / f"{stem}.ack").read_text(encoding="ascii") == fresh
    await _version_2(pipeline, be, ref, after["invoices"][0]["items"][0]["quantity"])


async def test_an_amendment_of_a_be_not_registered_or_not_the_senders_gets_code_19(
    pipeline: Pipeline,
) -> None:
    """Code 19 (README's table): an amendment over HTTP of a BE number never registered,
    422; one dropped in the inbox by another broker (HREC sender, p. 9) for a registered BE,
    `.nak`. Nothing registered: no BE under the unused number, no version 2."""
    never = new_bill_of_entry("H", mode_of_transport="A", be_no="0000017")  # never assigned
    before, after = _versions(never, never)
    after["invoices"][0]["items"][0]["quantity"] += 10
    job = f"{never['user_job_no']}2025"
    text = cachi01_a(before, after, reason="QUANTITY", letter_no="L-17", control_no="200019")
    response = await _upload(pipeline, f"{job}.beamd", text)
    assert response.status_code == 422, response.text
    nak = response.json()
    assert (nak["outcome"], nak["error_codes"], nak["bill_of_entry_ref"]) == (
        "rejected",
        ["19"],
        None,
    )
    assert nak["acknowledgement_file"] == f"{job}.beamd.nak"

    be = new_bill_of_entry("H", mode_of_transport="A")
    await pipeline.facts_before(be)
    registered = await _upload(pipeline, f"{be['user_job_no']}2025.be", _flat_file(be, "200020"))
    assert registered.status_code == 202, registered.text
    ref = registered.json()["bill_of_entry_ref"]
    await _registered(pipeline, be, ref)
    before, after = _versions(be, ref)
    after["invoices"][0]["items"][0]["quantity"] += 10
    foreign = cachi01_a(
        before,
        after,
        reason="QUANTITY",
        letter_no="L-20",
        control_no="200021",
        sender="AAACT9876KCH001",  # another customs broker
    )
    inbox = _inbox(pipeline)
    stem = f"{be['user_job_no']}2025"
    _drop(inbox, f"{stem}.beamd", foreign)
    kind, answer = await _answer_in_inbox(inbox, f"{stem}.beamd")
    assert kind == "nak", answer
    assert _error_codes(answer) == {"19"}
    await asyncio.sleep(3)
    assert pipeline.listener.for_key(REGISTERED, key_of(_numbered(never, never))) == []
    versions = [
        orjson.loads(r.value)["bill_of_entry_ref"]["version"]
        for r in pipeline.listener.for_key(REGISTERED, key_of(_numbered(be, ref)))
    ]
    assert set(versions) == {1}


# -- files at fault: in the inbox what the test above sent over HTTP, and the other way round


async def test_files_at_fault_dropped_in_the_inbox_get_a_nak_naming_each_fault(
    pipeline: Pipeline,
) -> None:
    """Dropped in the inbox: a file whose HREC and TREC control numbers differ (code 04,
    p. 9), and one with an unknown segment (06) and an ITEMS record a field short (08, p.
    24): each a `.nak` beside it with those codes, a record per record at fault naming its
    segment (field 24, p. 55). Over HTTP, a truncated file (03): 422. Nothing registered."""
    be = new_bill_of_entry("H", mode_of_transport="A")
    text = _flat_file(be, "200022")
    jobs = [str(int(be["user_job_no"]) + n) for n in range(3)]  # file names; one job inside
    inbox = _inbox(pipeline)

    mismatched = text.replace(f"{GS}200022{GS}", f"{GS}200023{GS}", 1)  # HREC's, not TREC's
    assert mismatched != text
    _drop(inbox, f"{jobs[0]}2025.be", mismatched)
    kind, answer = await _answer_in_inbox(inbox, f"{jobs[0]}2025")
    assert kind == "nak", answer
    assert _error_codes(answer) == {"04"}

    lines = text.split("\n")
    item = lines.index("<TABLE>ITEMS") + 1
    lines[item] = GS.join(lines[item].split(GS)[:-1])  # a field short
    lines.insert(item + 1, "<TABLE>BOGUS")
    lines.insert(item + 2, GS.join(["F", "INNSA1", "1"]))
    _drop(inbox, f"{jobs[1]}2025.be", "\n".join(lines))
    kind, answer = await _answer_in_inbox(inbox, f"{jobs[1]}2025")
    assert kind == "nak", answer
    by_segment = {(r[23], r[19]) for r in _ack_records(answer)}
    assert {("ITEMS", "08"), ("BOGUS", "06")} <= by_segment

    response = await _upload(pipeline, f"{jobs[2]}2025.be", text[: len(text) // 2])
    assert response.status_code == 422, response.text
    assert "03" in response.json()["error_codes"]
    await _nothing_registered(pipeline, be)
