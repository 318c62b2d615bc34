"""be-intake on real Kafka and PostgreSQL, through the session's five services: every
intake rule, the facts of their owners, amendments, officers, prior entries moved through
time, the notice stream and the search (INTAKE-*, STATUS-1)."""

from __future__ import annotations

import asyncio
import copy
import random
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import orjson
import pytest
from clearance_runtime.clock import CUSTOMS_TIMEZONE
from pipeline_harness import (
    AMENDMENT,
    GATEPASS,
    INVALIDATED,
    NOTICE,
    PAYMENT_RECORDED,
    REGISTERED,
    REJECTED,
    Pipeline,
    headers,
    key_of,
    new_bill_of_entry,
)

pytestmark = pytest.mark.e2e
FILER = "AABCJ2231PCH001"  # the example's Customs Broker


def _body(record: Any) -> dict[str, Any]:
    return dict(orjson.loads(record.value))


async def _registered(pipeline: Pipeline, be: dict[str, Any], count: int = 1) -> dict[str, Any]:
    records = await pipeline.listener.wait_for(REGISTERED, key_of(be), count=count)
    return _body(records[count - 1])


def _notices(pipeline: Pipeline, be: dict[str, Any]) -> list[dict[str, Any]]:
    mine = [_body(r) for r in pipeline.listener.for_key(NOTICE, FILER)]
    return [n for n in mine if n["bill_of_entry_ref"]["be_no"] == be["be_no"]]


async def _amend(pipeline: Pipeline, be: dict[str, Any], **changes: Any) -> dict[str, Any]:
    amended = {**copy.deepcopy(be), **changes}
    data = {
        "bill_of_entry": amended,
        "reason": "bona fide mistake in the declaration",
        "documentary_evidence": [
            {
                "document_type": "invoice",
                "reference": "DHZL-2503-0117",
                "issued_on": (date.fromisoformat(be["be_date"]) - timedelta(days=10)).isoformat(),
            }
        ],
        "requested_at": datetime.now(CUSTOMS_TIMEZONE).isoformat(),
    }
    await pipeline.publish(AMENDMENT, data, "/icegate/test-upstream")
    return data


async def test_a_valid_be_takes_its_facts_from_their_owners_and_notifies_its_broker(
    pipeline: Pipeline,
) -> None:
    """INTAKE-BE-1, OOC-AUTO-1 (certificate from the directory), INTAKE-DUTY-1 (payment from
    the bank), INTAKE-PRIOR-1 (arrival from the IGM), STATUS-1 (notices, search)."""
    be = new_bill_of_entry("H")
    await pipeline.file(be)
    registered = await _registered(pipeline, be)
    assert registered["aeo_certificate"]["iec"] == be["iec"]
    assert registered["aeo_certificate"]["tier"] == "T2"
    assert registered["arrival"]["inward_date"] == be["igm"]["inward_date"]
    [recorded] = await pipeline.listener.wait_for(PAYMENT_RECORDED, key_of(be))
    assert _body(recorded)["kind"] == "paid"
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
    status = await pipeline.status_when(be, lambda s: s["status"] == "gatepass_issued")
    assert status["notice_code"] == "09"
    assert status["charges"]["total_paid"] == be["duty"]["total_duty"]
    assert {e["producer"] for e in status["history"]} >= {"be-intake", "ooc-issuer"}
    await asyncio.sleep(1)
    codes = [n["notice_code"] for n in _notices(pipeline, be)]
    assert codes[0] == "01", codes
    assert codes[-1] == "09", codes
    found = (await pipeline.get("/bills-of-entry", iec=be["iec"])).json()
    [summary] = found["bills_of_entry"]
    assert summary["bill_of_entry_ref"]["be_no"] == be["be_no"]
    by_port = await pipeline.get(
        "/bills-of-entry", port_code="INNSA1", be_date=be["be_date"], limit=100
    )
    assert by_port.status_code == 200
    assert by_port.json()["limit"] == 100
    too_big = await pipeline.get("/bills-of-entry", limit=100_000)
    assert too_big.status_code == 422


async def test_an_invalid_be_is_rejected_with_every_reason_and_nothing_flows_on(
    pipeline: Pipeline,
) -> None:
    be = new_bill_of_entry("W", iec="12AB", warehouse_code=None)
    await pipeline.file(be)
    [rejected] = await pipeline.listener.wait_for(REJECTED, key_of(be))
    rules = [r["rule_id"] for r in _body(rejected)["reasons"]]
    assert rules == ["INTAKE-IEC-1", "INTAKE-BE-2"]
    status = await pipeline.status_when(be, lambda s: s["status"] == "rejected")
    assert not status["registered"]
    await asyncio.sleep(2)
    assert pipeline.listener.for_key(REGISTERED, key_of(be)) == []


async def test_the_same_job_number_and_date_from_the_same_filer_register_one_be(
    pipeline: Pipeline,
) -> None:
    be = new_bill_of_entry("H")
    await pipeline.file(be)
    await _registered(pipeline, be)
    twin = {**be, "be_no": f"{(int(be['be_no']) + 1) % 10**7:07d}"}
    await pipeline.file(twin, facts=False)
    again = await pipeline.file(be, facts=False)
    await pipeline.file(be, again, facts=False)  # the same event id as well
    await asyncio.sleep(3)
    assert pipeline.listener.for_key(REGISTERED, key_of(twin)) == []
    assert len(pipeline.listener.for_key(REGISTERED, key_of(be))) == 1
    assert (await pipeline.status(twin)).status_code == 404


async def test_an_amendment_before_assessment_is_registered_as_version_2(
    pipeline: Pipeline,
) -> None:
    """INTAKE-AMEND-1."""
    be = new_bill_of_entry("H", aeo_tier=None)  # held for an officer: not assessed
    await pipeline.file(be)
    await _registered(pipeline, be)
    await _amend(pipeline, be, importer_address="Unit 15, Millennium Business Park, Mahape")
    v2 = await _registered(pipeline, be, count=2)
    assert v2["bill_of_entry_ref"]["version"] == 2
    assert v2["amendment"] == {
        "amendment_no": 1,
        "changed_elements": ["importer_address"],
        "assessment_invalidated": False,
        "after_out_of_charge": False,
    }
    await pipeline.status_when(be, lambda s: s["bill_of_entry_ref"]["version"] == 2)


async def test_an_amendment_of_the_cth_after_assessment_invalidates_the_assessment(
    pipeline: Pipeline,
) -> None:
    """INTAKE-AMEND-1: an element of assessment changed after the officer assessed."""
    be = new_bill_of_entry("H", aeo_tier=None)
    await pipeline.file(be)
    registered = await _registered(pipeline, be)
    assessment = {
        "bill_of_entry_ref": registered["bill_of_entry_ref"],
        "outcome": "confirmed",
        "assessed_duty": be["duty"]["total_duty"],
        "reasons": [{"rule_id": "INTAKE-SA-1", "message": "self-assessment confirmed"}],
        "officer": {"officer_id": "appraiser.5c.04", "location": "INNSA1"},
        "assessed_at": datetime.now(CUSTOMS_TIMEZONE).isoformat(),
    }
    await pipeline.publish("clearance.assessment.completed.v1", assessment, "rms-router")
    await pipeline.status_when(be, lambda s: s["charges"]["duty_assessed"] is not None)
    invoices = copy.deepcopy(be["invoices"])
    invoices[0]["items"][0]["cth"] = "85258020"
    await _amend(pipeline, be, invoices=invoices)
    v2 = await _registered(pipeline, be, count=2)
    assert v2["amendment"]["assessment_invalidated"] is True
    assert v2["amendment"]["changed_elements"] == ["invoices[0].items[0].cth"]


async def test_an_amendment_after_out_of_charge_needs_the_officer_and_never_reopens(
    pipeline: Pipeline,
) -> None:
    """INTAKE-AMEND-2: documentary evidence that existed at clearance, an officer's approval,
    a new version, and the release stands (one gatepass)."""
    be = new_bill_of_entry("H")
    await pipeline.file(be)
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
    await pipeline.status_when(be, lambda s: s["status"] == "gatepass_issued")
    await _amend(pipeline, be, importer_name="SECURUS VISION SYSTEMS PVT LTD")
    status = await pipeline.status_when(be, lambda s: s["status"] == "documents_requested")
    assert status["pending_amendment"]["amendment_no"] == 1
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        path = f"/bills-of-entry/{key_of(be)}/amendments/1/decision"
        refused_role = await client.post(
            path, json={"approve": True, "reason": "x"}, headers=headers("filer")
        )
        decided = await client.post(
            path,
            json={"approve": True, "reason": "the GST registration shows the name"},
            headers=headers("officer", "dc.pag.innsa1"),
        )
    assert refused_role.status_code == 403
    assert decided.status_code == 200
    assert decided.json()["outcome"] == "approved"
    v2 = await _registered(pipeline, be, count=2)
    assert v2["amendment"]["after_out_of_charge"] is True
    status = await pipeline.status_when(be, lambda s: s["status"] == "gatepass_issued")
    assert status["bill_of_entry_ref"]["version"] == 2
    assert any("dc.pag.innsa1" in e["summary"] for e in status["history"])
    await asyncio.sleep(2)
    assert len(pipeline.listener.for_key(GATEPASS, key_of(be))) == 1


def _late_be() -> dict[str, Any]:
    """A sea BE whose vessel arrived three days ago (INTAKE-LATE-3: due the day before)."""
    be = new_bill_of_entry("H", prior_be=False)
    today = date.fromisoformat(be["be_date"])
    be["igm"] = {**be["igm"], "inward_date": (today - timedelta(days=3)).isoformat()}
    return be


async def test_a_late_be_owes_charges_and_the_officer_may_waive_them(pipeline: Pipeline) -> None:
    """INTAKE-LATE-3, INTAKE-LATE-2 (whole rupees, 5,000 a day for 3 days, then 10,000)."""
    waived, kept = _late_be(), _late_be()
    for be in (waived, kept):
        await pipeline.file(be)
    late = {}
    for be in (waived, kept):
        status = await pipeline.status_when(
            be, lambda s: s["charges"]["late_presentation"] is not None
        )
        late[be["be_no"]] = status["charges"]["late_presentation"]
    for charges in late.values():
        days = charges["days_late"]
        assert days >= 4
        assert charges["rule_id"] == "INTAKE-LATE-3"
        assert charges["charge"] == 15_000 + 10_000 * (days - 3)
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        path = f"/bills-of-entry/{key_of(waived)}/late-charges/waiver"
        response = await client.post(
            path, json={"reason": "vessel berthed early"}, headers=headers("officer", "ac.nsa.3")
        )
        twice = await client.post(path, json={"reason": "again"}, headers=headers("officer"))
    assert response.status_code == 200
    assert response.json()["outcome"] == "waived"
    assert twice.status_code == 409
    status = await pipeline.status_when(
        waived, lambda s: s["charges"]["late_presentation"]["waived"] is not None
    )
    assert status["charges"]["late_presentation"]["waived"]["officer_id"] == "ac.nsa.3"
    kept_status = (await pipeline.status(kept)).json()
    assert kept_status["charges"]["late_presentation"]["waived"] is None
    assert kept_status["charges"]["amount_due"] == pytest.approx(
        kept["duty"]["total_duty"] + late[kept["be_no"]]["charge"]
    )


async def _prior_entry(pipeline: Pipeline) -> tuple[dict[str, Any], date]:
    """A prior entry lodged now by be-intake's clock, its carrier not yet arrived (held for
    an officer, no AEO status: nothing is released before the carrier comes)."""
    now = (await pipeline.intake_now()).astimezone(CUSTOMS_TIMEZONE)
    be = new_bill_of_entry("H", aeo_tier=None)
    day = now.date().isoformat()
    be.update(be_date=day, user_job_date=day, filed_at=now.isoformat())
    be["igm"] = {**be["igm"], "igm_date": day, "inward_date": None}
    await pipeline.file(be)
    registered = await _registered(pipeline, be)
    assert registered["arrival"] is None
    status = await pipeline.status_when(be, lambda s: s["presented_on"] is not None)
    return be, date.fromisoformat(status["presented_on"])


async def _set_intake_clock(pipeline: Pipeline, day: date, at: time) -> None:
    target = datetime.combine(day, at, tzinfo=CUSTOMS_TIMEZONE)
    now = await pipeline.intake_now()
    if target > now:  # never back: other tests share the service
        await pipeline.move_intake_clock((target - now).total_seconds())


async def test_a_prior_entry_whose_carrier_arrives_on_day_29_stays_valid(
    pipeline: Pipeline,
) -> None:
    """INTAKE-PRIOR-1."""
    be, presented = await _prior_entry(pipeline)
    await _set_intake_clock(pipeline, presented + timedelta(days=29), time(10))
    await pipeline.arrive(be, (presented + timedelta(days=29)).isoformat())
    await pipeline.status_when(be, lambda s: s["arrival"] is not None)
    await _set_intake_clock(pipeline, presented + timedelta(days=32), time(0, 5))
    await asyncio.sleep(3)
    assert pipeline.listener.for_key(INVALIDATED, key_of(be)) == []
    assert (await pipeline.status(be)).json()["status"] != "invalidated"


async def test_a_prior_entry_whose_carrier_has_not_arrived_by_day_31_is_invalidated(
    pipeline: Pipeline,
) -> None:
    """INTAKE-PRIOR-1: the timer fires at the start of day 31 with a notice."""
    be, presented = await _prior_entry(pipeline)
    await _set_intake_clock(pipeline, presented + timedelta(days=31), time(0, 1))
    [invalidated] = await pipeline.listener.wait_for(INVALIDATED, key_of(be), timeout=60)
    assert _body(invalidated)["reasons"][0]["rule_id"] == "INTAKE-PRIOR-1"
    await pipeline.arrive(be, (presented + timedelta(days=31)).isoformat())
    status = await pipeline.status_when(be, lambda s: s["arrival"] is not None)
    assert (status["status"], status["notice_code"]) == ("invalidated", "10")
    await asyncio.sleep(1)
    assert "10" in [n["notice_code"] for n in _notices(pipeline, be)]


async def test_a_claimed_aeo_t3_unknown_to_the_directory_is_registered_without_a_certificate(
    pipeline: Pipeline,
) -> None:
    """OOC-AUTO-1: the filing's aeo_tier is a claim; the directory decides."""
    be = new_bill_of_entry("H", aeo_tier="T3")
    await pipeline.file(be, certify=False)
    registered = await _registered(pipeline, be)
    assert registered["aeo_certificate"] is None
    status = await pipeline.status_when(be, lambda s: s["aeo_claim"] == "T3")
    flagged = [r for e in status["history"] for r in e["reasons"] if r["rule_id"] == "OOC-AUTO-1"]
    assert any("claims AEO T3" in r["message"] for r in flagged)


async def test_a_filing_claiming_duty_paid_without_a_payment_records_no_payment(
    pipeline: Pipeline,
) -> None:
    """INTAKE-DUTY-1: a payment is what the bank or ledger reports, never the claim."""
    be = new_bill_of_entry("H")
    assert be["duty"]["paid"] is True
    await pipeline.file(be, pay=False)
    await _registered(pipeline, be)
    await asyncio.sleep(3)
    assert pipeline.listener.for_key(PAYMENT_RECORDED, key_of(be)) == []
    status = (await pipeline.status(be)).json()
    assert status["charges"]["total_paid"] == 0
    assert status["charges"]["outstanding"] == be["duty"]["total_duty"]


async def test_reads_need_an_identity_and_unknown_bes_are_404(pipeline: Pipeline) -> None:
    be_no = f"{random.randrange(10**6, 10**7):07d}"
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        anonymous = await client.get(f"/bills-of-entry/INNSA1/{be_no}/2025-03-20")
    assert anonymous.status_code == 401
    assert (await pipeline.get(f"/bills-of-entry/INNSA1/{be_no}/2025-03-20")).status_code == 404
