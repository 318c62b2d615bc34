"""ooc-issuer on real Kafka and PostgreSQL (issue 13): the release decision on facts from
their owners, the officer's OOC, CCV, conditional OOC, the signed e-OOC, and e-Gatepass
delivery to custodians.

The tests publish what the owners would (be-intake's `registered` with the AEO certificate
and its `duty-payment.recorded`, rms-router's assessment and examination, bis-verifier's
sampled verdict and laboratory result) directly to their topics, with fresh BE numbers;
the real bis-verifier, rms-router and warehouse-seal answer the registrations as usual.
"""

from __future__ import annotations

import asyncio
import copy
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import pytest
import zxingcpp
from clearance_contracts import (
    ASSESSMENT_COMPLETED,
    BILL_OF_ENTRY_REGISTERED,
    BIS_SAMPLE_CONCLUDED,
    BIS_VERIFICATION_COMPLETED,
    DUTY_PAYMENT_RECORDED,
    E_GATEPASS_ISSUED,
    EXAMINATION_COMPLETED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RE_EXPORT_ORDERED,
    example,
    topic_for,
)
from clearance_runtime.envelope import CloudEvent
from custodian_simulator import CustodianSimulator
from PIL import Image
from pipeline_harness import Identity, Listener, Pipeline, headers, key_of, new_bill_of_entry

pytestmark = pytest.mark.e2e

CUSTODIANS = ("INNSA1CFS1", "INNSA1CFS2", "INNSA1CFS3", "INNSA1ICD1")
GATEPASS_TOPICS = {code: topic_for(E_GATEPASS_ISSUED, custodian_code=code) for code in CUSTODIANS}
TOPICS = (
    OUT_OF_CHARGE_ISSUED,
    OUT_OF_CHARGE_HELD,
    RE_EXPORT_ORDERED,
    BIS_VERIFICATION_COMPLETED,
    *GATEPASS_TOPICS.values(),
)
OFFICER = headers("officer", "officer.innsa1.ooc-02", location="INNSA1")
ADMIN = headers("administrator", "admin-1")


def _custodian(code: str) -> Identity:
    """The custodian's system: its token's `custodian` claim is its code."""
    return headers("custodian", f"{code.lower()}-system", custodian=code)


def _filer(**scope: str) -> Identity:
    """A filer bound to exactly `scope` (cb_code and/or iec; nothing else)."""
    return headers("filer", "filer-1", **{"cb_code": "", "iec": "", **scope})


class Ooc:
    """The test's view of ooc-issuer: publish owners' facts, listen, call its HTTP API."""

    def __init__(self, pipeline: Pipeline, listener: Listener) -> None:
        self.pipeline = pipeline
        self.listener = listener
        self.url = pipeline.services["ooc-issuer"].url
        self.http = httpx.AsyncClient(base_url=self.url, timeout=30)

    async def publish(self, event_type: str, data: dict[str, Any], source: str) -> None:
        key = key_of({**data["bill_of_entry_ref"]})
        event = CloudEvent.new(event_type, f"/clearance/{source}", key, data)
        await self.pipeline.producer.send_and_wait(
            event_type, value=event.kafka_value(), key=event.kafka_key(),
            headers=event.kafka_headers(),
        )  # fmt: skip

    async def register(
        self, be: dict[str, Any], *, tier: str | None = "T2", version: int = 1,
        invalidates_assessment: bool = False,
    ) -> None:  # fmt: skip
        """As be-intake: the registered version with the AEO directory's certificate."""
        today = date.fromisoformat(be["be_date"])
        data: dict[str, Any] = {
            "bill_of_entry_ref": {**_ref(be), "version": version},
            "bill_of_entry": be,
            "registered_at": datetime.now(UTC).isoformat(),
            "aeo_certificate": None
            if tier is None
            else {
                "certificate_no": f"IN{be['iec']}{tier[-1]}F24",
                "iec": be["iec"],
                "tier": tier,
                "valid_from": (today - timedelta(days=400)).isoformat(),
                "valid_to": (today + timedelta(days=400)).isoformat(),
            },
        }
        if version > 1:
            data["amendment"] = {
                "amendment_no": version - 1,
                "changed_elements": ["invoice_value"],
                "assessment_invalidated": invalidates_assessment,
                "after_out_of_charge": False,
            }
        await self.publish(BILL_OF_ENTRY_REGISTERED, data, "be-intake")

    async def pay(self, be: dict[str, Any], total: float, reference: str = "CHLN-1") -> None:
        """As be-intake, from the bank: a payment and the total paid so far."""
        data = {
            "bill_of_entry_ref": {**_ref(be), "version": 1},
            "kind": "paid",
            "amount": total,
            "mode": "internet_banking",
            "reference": reference,
            "total_paid": total,
            "recorded_at": datetime.now(UTC).isoformat(),
        }
        await self.publish(DUTY_PAYMENT_RECORDED, data, "be-intake")

    async def assessed(self, be: dict[str, Any], version: int = 1) -> None:
        """As rms-router: the faceless group confirmed the self-assessment of this version."""
        assessment = copy.deepcopy(example(ASSESSMENT_COMPLETED))
        assessment.update(
            bill_of_entry_ref={**_ref(be), "version": version},
            assessed_duty=be["duty"]["total_duty"],
            assessed_at=datetime.now(UTC).isoformat(),
        )
        await self.publish(ASSESSMENT_COMPLETED, assessment, "rms-router")

    async def examined(self, be: dict[str, Any]) -> None:
        """As rms-router: the examination of version 1 found no discrepancy."""
        report = copy.deepcopy(example(EXAMINATION_COMPLETED))
        report["bill_of_entry_ref"] = {**_ref(be), "version": 1}
        report["examined_at"] = datetime.now(UTC).isoformat()
        await self.publish(EXAMINATION_COMPLETED, report, "rms-router")

    async def wait(self, topic: str, be: dict[str, Any], count: int = 1) -> list[Any]:
        records = await self.listener.wait_for(topic, key_of(be), count=count, timeout=90)
        return [orjson.loads(record.value) for record in records]

    async def held(
        self, be: dict[str, Any], predicate: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """The first held announcement that satisfies `predicate`."""
        async with asyncio.timeout(90):
            while True:
                for record in self.listener.for_key(OUT_OF_CHARGE_HELD, key_of(be)):
                    body = orjson.loads(record.value)
                    if predicate(body):
                        return body
                await asyncio.sleep(0.2)

    async def case(self, be: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.get(f"/cases/{key_of(be)}", headers=OFFICER)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def case_until(
        self, be: dict[str, Any], predicate: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        async with asyncio.timeout(90):
            while True:
                response = await self.http.get(f"/cases/{key_of(be)}", headers=OFFICER)
                if response.status_code == 200 and predicate(response.json()):
                    body: dict[str, Any] = response.json()
                    return body
                await asyncio.sleep(0.2)

    async def decide(self, be: dict[str, Any], decision: str, **extra: Any) -> httpx.Response:
        return await self.http.post(
            f"/cases/{key_of(be)}/decision",
            json={"version": 1, "decision": decision, **extra},
            headers=OFFICER,
        )

    async def advance_clock(self, seconds: float) -> None:
        response = await self.http.post(
            "/admin/clock", json={"advance_seconds": seconds}, headers=ADMIN
        )
        assert response.status_code == 200, response.text

    async def clear(self, be: dict[str, Any]) -> dict[str, Any]:
        """An AEO T2 BE, paid: automatic OOC (OOC-AUTO-1)."""
        await self.register(be)
        await self.pay(be, be["duty"]["total_duty"])
        [issued] = await self.wait(OUT_OF_CHARGE_ISSUED, be)
        return issued


def _ref(be: dict[str, Any]) -> dict[str, str]:
    return {key: be[key] for key in ("port_code", "be_no", "be_date")}


def _be(custodian_code: str = "INNSA1CFS2", **overrides: Any) -> dict[str, Any]:
    return new_bill_of_entry(
        "H", **{"custodian_code": custodian_code, "aeo_tier": None, **overrides}
    )


@pytest.fixture(scope="module")
async def ooc(pipeline: Pipeline) -> AsyncIterator[Ooc]:
    listener = Listener(pipeline.infra.kafka_bootstrap, TOPICS)
    await listener.start()
    harness = Ooc(pipeline, listener)
    yield harness
    await harness.http.aclose()
    await listener.stop()


async def test_automatic_ooc_for_aeo_t2_with_a_signed_e_ooc(ooc: Ooc, tmp_path: Path) -> None:
    """OOC-AUTO-1, OOC-GP-1, OOC-EOOC-1: AEO T2 certificate from the directory, duty paid
    by the bank: automatic OOC; the e-OOC PDF's QR decodes to a token the JWKS verifies;
    one changed character is rejected; only the BE's importer or broker gets the PDF."""
    be = _be("INNSA1CFS2")
    issued = await ooc.clear(be)
    assert issued["mode"] == "automatic"
    [gatepass] = await ooc.wait(GATEPASS_TOPICS["INNSA1CFS2"], be)
    assert gatepass["ooc_no"] == issued["ooc_no"]
    assert gatepass["containers"][0]["qr"].startswith("EGP1|")

    response = await ooc.http.get(issued["document"]["url"], headers=_filer(iec=be["iec"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "e-ooc.pdf"
    pdf.write_bytes(response.content)
    await asyncio.to_thread(
        subprocess.run,
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-singlefile", str(pdf), str(tmp_path / "p")],
        check=True,
    )
    [code] = zxingcpp.read_barcodes(Image.open(tmp_path / "p.png"))
    token = code.text
    assert token == gatepass["document_qr"]

    jwks = (await ooc.http.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(token)
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["ES256"], issuer="ooc-issuer")
    assert (claims["be_no"], claims["ooc_no"], claims["iec"]) == (
        be["be_no"],
        issued["ooc_no"],
        be["iec"],
    )
    assert claims["packages"] == 212
    verified = (await ooc.http.post("/e-ooc/verification", json={"token": token})).json()
    assert verified["valid"]
    assert verified["on_record"]

    head, body, signature = token.split(".")
    position = len(body) // 2
    altered = body[:position] + ("A" if body[position] != "A" else "B") + body[position + 1 :]
    rejected = await ooc.http.post(
        "/e-ooc/verification", json={"token": f"{head}.{altered}.{signature}"}
    )
    assert rejected.json()["valid"] is False
    with pytest.raises(jwt.PyJWTError):
        jwt.decode(f"{head}.{altered}.{signature}", jwt.PyJWK(key).key, algorithms=["ES256"])

    broker = await ooc.http.get(
        issued["document"]["url"], headers=_filer(cb_code=be["customs_broker_code"])
    )
    assert broker.status_code == 200
    other = await ooc.http.get(issued["document"]["url"], headers=_filer(iec="AAACZ9999Z"))
    assert other.status_code == 404


async def test_officer_ooc_for_a_non_aeo_importer(ooc: Ooc) -> None:
    """OOC-AUTO-1: not an AEO: queued FIFO for the OOC officer of INNSA1, who grants it."""
    be = await ooc.pipeline.not_interdicted(_be())
    await ooc.register(be, tier=None)
    await ooc.pay(be, be["duty"]["total_duty"])
    held = await ooc.held(be, lambda body: body.get("grantable") is True)
    assert "no AEO certificate" in held["reasons"][0]["message"]
    # FIFO: the newest entry is last, behind every BE the session's other tests left held
    # at INNSA1, so the whole queue (the route's maximum page), not its first 100.
    queue = (
        await ooc.http.get("/queues/out-of-charge", params={"limit": 500}, headers=OFFICER)
    ).json()["queue"]
    assert key_of(be) in [key_of(entry["bill_of_entry_ref"]) for entry in queue]
    elsewhere = headers("officer", "officer.inmun1.ooc-01", location="INMUN1")
    assert (
        await ooc.http.get("/queues/out-of-charge?location=INNSA1", headers=elsewhere)
    ).status_code == 403
    response = await ooc.decide(be, "grant")
    assert response.status_code == 200, response.text
    [issued] = await ooc.wait(OUT_OF_CHARGE_ISSUED, be)
    assert issued["mode"] == "officer"
    assert issued["officer"] == {"officer_id": "officer.innsa1.ooc-02", "location": "INNSA1"}
    again = await ooc.decide(be, "grant")
    assert again.status_code == 409  # exactly one OOC


async def test_a_filing_claiming_t3_without_a_certificate_is_held(ooc: Ooc) -> None:
    """OOC-AUTO-1: the AEO directory has no certificate for the IEC; the claim decides nothing."""
    be = await ooc.pipeline.not_interdicted(_be(aeo_tier="T3"))
    await ooc.register(be, tier=None)
    await ooc.pay(be, be["duty"]["total_duty"])
    held = await ooc.held(be, lambda body: body.get("grantable") is True)
    assert "the filing claims T3" in held["reasons"][0]["message"]
    await asyncio.sleep(2)
    assert ooc.listener.for_key(OUT_OF_CHARGE_ISSUED, key_of(be)) == []


async def test_ooc_follows_an_examination_without_discrepancy(ooc: Ooc) -> None:
    """RMS-2, OOC-EXAM-1: First Check -> examination, then the assessment; the report
    releases the BE once it is assessed."""
    be = await ooc.pipeline.not_interdicted(_be(first_check=True))
    await ooc.register(be, tier=None)
    await ooc.pay(be, be["duty"]["total_duty"])
    await ooc.held(be, lambda b: any(r["rule_id"] == "RMS-1" for r in b["reasons"]))
    await ooc.examined(be)
    await ooc.held(be, lambda b: any(r["rule_id"] == "OOC-AUTO-1" for r in b["reasons"]))
    await ooc.assessed(be)
    [issued] = await ooc.wait(OUT_OF_CHARGE_ISSUED, be)
    assert issued["mode"] == "officer"
    assert issued["reasons"][0]["rule_id"] == "OOC-EXAM-1"


async def test_ccv_clears_conditionally_and_ooc_follows_the_payment(ooc: Ooc) -> None:
    """OOC-CCV-1: compliance verified before payment; the OOC the moment the payment lands."""
    be = await ooc.pipeline.not_interdicted(_be())
    await ooc.register(be, tier=None)
    await ooc.held(be, lambda b: "neither paid" in str(b["reasons"]))
    assert (await ooc.decide(be, "grant")).status_code == 409  # the duty blocks a grant
    response = await ooc.decide(be, "ccv")
    assert response.status_code == 200, response.text
    await ooc.held(be, lambda b: b.get("status") == "conditionally_cleared")
    await ooc.pay(be, be["duty"]["total_duty"])
    [issued] = await ooc.wait(OUT_OF_CHARGE_ISSUED, be)
    assert issued["mode"] == "ccv"


async def test_a_short_payment_holds_the_be(ooc: Ooc) -> None:
    be = _be()
    await ooc.register(be)
    await ooc.pay(be, 1000.0)
    held = await ooc.held(be, lambda b: "duty short" in str(b["reasons"]))
    assert held["grantable"] is False
    assert (await ooc.decide(be, "grant")).status_code == 409
    await asyncio.sleep(2)
    assert ooc.listener.for_key(OUT_OF_CHARGE_ISSUED, key_of(be)) == []


async def test_toys_clear_conditionally_and_a_failed_lab_result_orders_re_export(
    ooc: Ooc,
) -> None:
    """OOC-BIS-1, BIS-QCO-3: sampled toys leave with a sale restriction; the lab fails them."""
    be = _be()
    item = be["invoices"][0]["items"][0]
    item.update(cth="95030020", description="PLASTIC TOY CARS, NON-ELECTRONIC, FOR CHILDREN")
    be["invoices"][0]["items"] = [item]
    await ooc.register(be)
    await ooc.case_until(be, lambda c: c["facts"]["bis"] is not None)  # the real verifier's
    verdict = copy.deepcopy(example(BIS_VERIFICATION_COMPLETED))
    verdict.update(
        bill_of_entry_ref={**_ref(be), "version": 1},
        bill_of_entry=be,
        verdict="conditional",
        findings=[{"rule_id": "BIS-QCO-3", "message": "toys: samples drawn for NABL testing"}],
        sampling={"items": [1], "reason": {"rule_id": "BIS-QCO-3", "message": "sampled"}},
    )
    await ooc.publish(BIS_VERIFICATION_COMPLETED, verdict, "bis-verifier")
    await ooc.case_until(be, lambda c: c["facts"]["bis"] == "conditional")
    # The real verifier failed the toys first (no licence, no certificates: BIS-QCO-1,
    # BIS-QCO-2), so rms-router selected them (bis-verdict-failed); officers found no fault.
    await ooc.examined(be)
    await ooc.assessed(be)
    await ooc.pay(be, be["duty"]["total_duty"])
    [issued] = await ooc.wait(OUT_OF_CHARGE_ISSUED, be)
    assert issued["conditions"][0]["condition"] == "sale_restricted"
    result = copy.deepcopy(example(BIS_SAMPLE_CONCLUDED))
    result["bill_of_entry_ref"] = {**_ref(be), "version": 1}
    await ooc.publish(BIS_SAMPLE_CONCLUDED, result, "bis-verifier")
    [order] = await ooc.wait(RE_EXPORT_ORDERED, be)
    assert order["order"] == "re_export"
    assert order["reasons"][0]["rule_id"] == "BIS-QCO-3"


async def test_a_failed_bis_check_blocks_the_release(ooc: Ooc) -> None:
    """OOC-BIS-1: a registration the BIS register does not know (BIS-CRS-1), declared for a
    CCTV camera (8525 80 90, under the CRO: BIS-CRS-4)."""
    be = _be()
    be["invoices"][0]["items"][0].update(cth="85258090", description="CCTV CAMERA")
    be["supporting_documents"].append(
        {"document_type": "bis_registration", "reference": "R-00000001", "invoice_sl_no": 1,
         "item_sl_no": 1}
    )  # fmt: skip
    await ooc.register(be)
    await ooc.pay(be, be["duty"]["total_duty"])
    held = await ooc.held(be, lambda b: any(r["rule_id"] == "OOC-BIS-1" for r in b["reasons"]))
    assert held["grantable"] is False
    assert (await ooc.decide(be, "grant")).status_code == 409


async def test_a_stale_assessment_blocks_until_the_new_version_is_assessed(ooc: Ooc) -> None:
    """INTAKE-AMEND-1: an amendment changed an element of assessment; v1's assessment is
    stale; the OOC follows v2's assessment, on version 2."""
    be = _be()
    await ooc.register(be)
    await ooc.assessed(be)
    await ooc.case_until(be, lambda c: c["facts"]["assessment"] == "valid")
    await ooc.register(be, version=2, invalidates_assessment=True)
    await ooc.pay(be, be["duty"]["total_duty"])
    held = await ooc.held(be, lambda b: any(r["rule_id"] == "INTAKE-AMEND-1" for r in b["reasons"]))
    assert held["bill_of_entry_ref"]["version"] == 2
    assert ooc.listener.for_key(OUT_OF_CHARGE_ISSUED, key_of(be)) == []
    await ooc.assessed(be, version=2)
    [issued] = await ooc.wait(OUT_OF_CHARGE_ISSUED, be)
    assert issued["bill_of_entry_ref"]["version"] == 2


async def test_a_warehouse_seal_mismatch_blocks_the_release(ooc: Ooc) -> None:
    """OOC-WH-1, SEAL-FMT-1: warehouse-seal finds the seal not of the RFID form."""
    be = new_bill_of_entry("W", custodian_code="INNSA1CFS2", aeo_tier=None)
    be["containers"][0]["seal_no"] = "CN4471823"
    await ooc.register(be)
    held = await ooc.held(be, lambda b: any(r["rule_id"] == "OOC-WH-1" for r in b["reasons"]))
    assert held["grantable"] is False


async def _callback(ooc: Ooc, code: str, simulator: CustodianSimulator) -> None:
    response = await ooc.http.put(
        f"/custodians/{code}/callback", json={"url": simulator.url}, headers=_custodian(code)
    )
    assert response.status_code == 200, response.text
    simulator.secret = response.json()["secret"]


async def _delivery(ooc: Ooc, code: str) -> dict[str, Any]:
    response = await ooc.http.get(f"/custodians/{code}/delivery", headers=_custodian(code))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_callback_that_fails_three_times_then_succeeds_gets_one_delivery(
    ooc: Ooc,
) -> None:
    """OOC-GP-1: retried with backoff; signed; one delivery, every attempt kept."""
    simulator = CustodianSimulator().start()
    try:
        await _callback(ooc, "INNSA1CFS3", simulator)
        simulator.fail_next = 3
        be = _be("INNSA1CFS3")
        issued = await ooc.clear(be)
        async with asyncio.timeout(60):
            while issued["gatepass_no"] not in simulator.gatepasses():
                await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        assert simulator.gatepasses().count(issued["gatepass_no"]) == 1
        status = await _delivery(ooc, "INNSA1CFS3")
        [mine] = [d for d in status["deliveries"] if d["gatepass_no"] == issued["gatepass_no"]]
        assert mine["state"] == "delivered"
        outcomes = [t["outcome"] for t in mine["tries"]]
        assert outcomes == ["retry", "retry", "retry", "delivered"]
    finally:
        simulator.stop()


async def test_a_callback_that_stays_down_is_blocked_probed_and_then_gets_its_backlog_in_order(
    ooc: Ooc,
) -> None:
    """OOC-GP-1: blocked after repeated failures; one pilot; then the backlog, in order."""
    code = "INNSA1ICD1"
    simulator = CustodianSimulator().start()
    try:
        await _callback(ooc, code, simulator)
        simulator.down = True
        bills = [_be(code) for _ in range(3)]
        numbers = [(await ooc.clear(be))["gatepass_no"] for be in bills]
        async with asyncio.timeout(90):
            while (await _delivery(ooc, code))["callback"]["state"] != "blocked":
                await ooc.advance_clock(400)  # past the capped backoff: the head is due
                await asyncio.sleep(1.0)
        calls_when_blocked = simulator.calls
        status = await _delivery(ooc, code)
        pending = {d["gatepass_no"]: d for d in status["deliveries"] if d["state"] == "pending"}
        assert set(numbers) <= set(pending)
        assert pending[numbers[1]]["attempts"] == 0  # only the head (the pilot) is tried
        assert pending[numbers[2]]["attempts"] == 0
        simulator.down = False
        await ooc.advance_clock(400)
        async with asyncio.timeout(60):
            while not set(numbers) <= set(simulator.gatepasses()):
                await asyncio.sleep(0.2)
        mine = [n for n in simulator.gatepasses() if n in numbers]
        assert mine == numbers  # in order
        assert simulator.calls > calls_when_blocked
        status = await _delivery(ooc, code)
        assert status["callback"]["state"] == "active"
        assert status["callback"]["unblocked_at"] is not None
    finally:
        simulator.stop()


async def test_a_custodian_pulls_and_acknowledges_what_it_has_not_received(ooc: Ooc) -> None:
    """OOC-GP-1: the pull mailbox, per custodian only."""
    be = _be("INNSA1CFS2")
    issued = await ooc.clear(be)
    headers = _custodian("INNSA1CFS2")

    async def pulled() -> list[str]:
        response = await ooc.http.get(
            "/custodians/INNSA1CFS2/gatepasses?limit=500", headers=headers
        )
        assert response.status_code == 200
        return [g["gatepass_no"] for g in response.json()["gatepasses"]]

    async with asyncio.timeout(30):
        while issued["gatepass_no"] not in await pulled():
            await asyncio.sleep(0.2)
    other = await ooc.http.get(
        "/custodians/INNSA1CFS2/gatepasses", headers=_custodian("INNSA1CFS1")
    )
    assert other.status_code == 403
    ack = await ooc.http.post(
        f"/custodians/INNSA1CFS2/gatepasses/{issued['gatepass_no']}/acknowledgement",
        headers=headers,
    )
    assert ack.json()["outcome"] == "acknowledged"
    assert issued["gatepass_no"] not in await pulled()
