"""rms-router on real Kafka and PostgreSQL: risk decisions per BE version, the officers'
FIFO queues, claims that expire, results as events, amendments, rule-set versions, an
invalidated BE, and an export whose seal was tampered (through warehouse-seal).

Scenarios of issue 11, each citing its rules. The queues are shared with every other
test of the session (and kept across sessions): an officer claims the next BE, FIFO, and
completes what is not this test's on the way (as an officer would), until it reaches the
test's BE.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import TopicPartition
from clearance_contracts import BILL_OF_ENTRY_REGISTERED, RMS_DECISION_MADE
from clearance_local.kafka import partitions_of
from clearance_runtime.envelope import CloudEvent
from pipeline_harness import (
    GATEPASS,
    SEAL_SOLD,
    Identity,
    Listener,
    Pipeline,
    headers,
    key_of,
    new_bill_of_entry,
    new_iec,
    new_seal_no,
    seal_sale,
    tid_of,
)

pytestmark = pytest.mark.e2e

ASSESSED = "clearance.assessment.completed.v1"
EXAMINED = "clearance.examination.completed.v1"
NOC = "clearance.pga-noc.recorded.v1"
BILL_OF_ENTRY_INVALIDATED = "clearance.bill-of-entry.invalidated.v1"
AFFIXED = "vendor.rfid-seal.affixed.v1"
SCANNED = "reader.rfid-seal.scanned.v1"
TOPICS = (RMS_DECISION_MADE, ASSESSED, EXAMINED, NOC, GATEPASS)
ADMIN = headers("administrator", "admin.e2e")
GOLD = "71081300"  # gold, non-monetary, unwrought: chapter 71 (rule precious-metals-and-stones)
PEPPER = "09041120"
# parts of CCTV cameras: no BIS order covers them (the cameras, 8525 80 90, fall under the
# CRO, and no registration of the 2021 register is valid today: rule bis-verdict-failed)
CCTV_PARTS = "85299090"  # black pepper: chapter 09 (FSSAI NOC, rule partner-agency-noc)


def officer(subject: str = "officer.e2e", location: str = "INNSA1", groups: str = "5C") -> Identity:
    """An officer of `location` working assessment `groups` (its token's scope claims)."""
    return headers("officer", subject, location=location, groups=groups)


class RmsListener(Listener):
    """The pipeline listener, on rms-router's topics."""

    async def start(self) -> None:
        await self._consumer.start()
        partitions = [
            TopicPartition(topic, p)
            for topic in TOPICS
            for p in await partitions_of(self.bootstrap, topic)
        ]
        self._consumer.assign(partitions)
        for tp, offset in (await self._consumer.end_offsets(partitions)).items():
            self._consumer.seek(tp, offset)
        self._task = asyncio.create_task(self._run())

    async def data(self, topic: str, be: dict[str, Any], version: int = 1) -> dict[str, Any]:
        """The first event of `topic` about this BE version."""
        key = key_of(be)
        for _ in range(600):
            for record in self.for_key(topic, key):
                data: dict[str, Any] = orjson.loads(record.value)
                if data["bill_of_entry_ref"]["version"] == version:
                    return data
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {topic} for {key} v{version}")


def identity(document: dict[str, Any]) -> tuple[str, str, str]:
    """A BE's or a Shipping Bill's custom house, number and date."""
    number = document["be_no"] if "be_no" in document else document["sb_no"]
    date = document["be_date"] if "be_date" in document else document["sb_date"]
    return document["port_code"], number, date


class Rms:
    def __init__(self, pipeline: Pipeline, listener: RmsListener) -> None:
        self.pipeline = pipeline
        self.listener = listener
        self.client = httpx.AsyncClient(base_url=pipeline.services["rms-router"].url, timeout=30)

    async def file(self, be: dict[str, Any]) -> dict[str, Any]:
        """File the BE upstream and wait for rms-router's decision on version 1."""
        await self.pipeline.file(be)
        return await self.listener.data(RMS_DECISION_MADE, be)

    async def claim(
        self, be: dict[str, Any], queue: str, headers: Mapping[str, str], kind: str | None = None
    ) -> dict[str, Any]:
        """Claim the next BE of `queue` until it is this BE's task, completing the others."""
        params = {"kind": kind} if kind else {}
        for _ in range(1_000):
            response = await self.client.post(f"{queue}/claim", params=params, headers=headers)
            if response.status_code == 204:  # not open yet (a result still on its way)
                await asyncio.sleep(0.2)
                continue
            assert response.status_code == 200, response.text
            task: dict[str, Any] = response.json()
            if identity(task["bill_of_entry_ref"] or task["shipping_bill_ref"]) == identity(be):
                return task
            await self.complete(task, headers)
        raise AssertionError(f"{key_of(be)} never came up in {queue}")

    async def complete(self, task: dict[str, Any], headers: Mapping[str, str]) -> None:
        """Another test's (or an earlier run's) task: done as an officer would."""
        kind, task_id = task["kind"], task["task_id"]
        if kind == "assessment":
            path, body = "assessment", {"outcome": "confirmed"}
        elif kind == "pga_noc":
            path, body = "pga-noc", {"outcome": "granted", "reference": "E2E/NOC/1"}
        else:
            path, body = "examination", {"outcome": "no_discrepancy"}
        response = await self.client.post(f"/tasks/{task_id}/{path}", json=body, headers=headers)
        assert response.status_code == 200, response.text

    async def record(
        self, task: dict[str, Any], path: str, body: dict[str, Any], headers: Mapping[str, str]
    ) -> httpx.Response:
        return await self.client.post(
            f"/tasks/{task['task_id']}/{path}", json=body, headers=headers
        )

    async def done(
        self, task: dict[str, Any], path: str, body: dict[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """Record a result of a claimed task (it must be accepted)."""
        response = await self.record(task, path, body, headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def audit(
        self, be: dict[str, Any], path: str = "bills-of-entry", until: str | None = None
    ) -> list[dict[str, Any]]:
        """The audit trail (of a BE, or `path="shipping-bills"`), once it names `until`."""
        key = "/".join(identity(be))
        for _ in range(300):
            response = await self.client.get(f"/{path}/{key}/audit", headers=ADMIN)
            assert response.status_code in (200, 404), response.text
            if response.status_code == 200:
                entries: list[dict[str, Any]] = response.json()["entries"]
                if until is None or until in [entry["action"] for entry in entries]:
                    return entries
            await asyncio.sleep(0.1)
        raise AssertionError(f"no audit entry {until} for {key}")

    async def now(self) -> datetime:
        response = await self.client.get("/admin/clock", headers=ADMIN)
        return datetime.fromisoformat(response.json()["now"])

    async def advance(self, seconds: float) -> None:
        response = await self.client.post(
            "/admin/clock", json={"advance_seconds": seconds}, headers=ADMIN
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
async def rms(pipeline: Pipeline) -> AsyncIterator[Rms]:
    listener = RmsListener(pipeline.infra.kafka_bootstrap)
    await listener.start()
    helper = Rms(pipeline, listener)
    yield helper
    await helper.client.aclose()
    await listener.stop()


def with_items(*items: tuple[str, float], **overrides: Any) -> dict[str, Any]:
    """A fresh filing whose invoice has these (CTH, value) items."""
    be = new_bill_of_entry("H", **overrides)
    template = be["invoices"][0]["items"][0]
    be["invoices"] = [be["invoices"][0]]
    be["invoices"][0]["items"] = [
        {**template, "item_sl_no": n, "cth": cth, "quantity": 1, "unit_price": value}
        for n, (cth, value) in enumerate(items, start=1)
    ]
    return be


async def test_a_facilitated_be_goes_to_automatic_out_of_charge(rms: Rms) -> None:
    """RMS-3, RMS-QUEUE-1, OOC-AUTO-1: no selection, no task, a gatepass."""
    be = new_bill_of_entry("H")
    decision = await rms.file(be)
    assert (decision["outcome"], decision["selections"]) == ("facilitated", [])
    assert decision["rule_set"]["policy_id"] == "rms-rule-set"
    assert decision["assessment_group"] == "5C"
    await rms.pipeline.listener.wait_for(GATEPASS, key_of(be))
    [entry] = await rms.audit(be)
    assert (entry["actor"], entry["action"], entry["version"]) == ("rms-router", "decided", 1)
    replay = await rms.client.get(f"/bills-of-entry/{key_of(be)}/decisions/1/replay", headers=ADMIN)
    assert replay.json()["identical"] is True


async def test_an_examination_with_no_discrepancy(rms: Rms) -> None:
    """RMS-1, RMS-QUEUE-1, OOC-EXAM-1: claimed at the location, examined, recorded."""
    be = with_items((CCTV_PARTS, 900.0), (GOLD, 50.0))
    decision = await rms.file(be)
    assert decision["selections"] == ["examination"]
    assert decision["fired_rules"] == ["precious-metals-and-stones"]
    elsewhere = await rms.client.post(
        "/queues/locations/INNSA1/claim", headers=officer(location="INBOM4")
    )
    assert elsewhere.status_code == 403
    overview = await rms.client.get("/queues/examination", params={"limit": 1000}, headers=ADMIN)
    [mine] = [row for row in overview.json() if row["be_no"] == be["be_no"]]
    assert (mine["port_code"], mine["assessment_group"], mine["kind"]) == (
        "INNSA1",
        "5C",
        "examination",
    )
    task = await rms.claim(be, "/queues/locations/INNSA1", officer(), "examination")
    assert task["instructions"].startswith("Verify description, weight and purity")
    response = await rms.record(task, "examination", {"outcome": "no_discrepancy"}, officer())
    assert response.status_code == 200, response.text
    examined = await rms.listener.data(EXAMINED, be)
    assert examined["outcome"] == "no_discrepancy"
    assert examined["officer"] == {"officer_id": "officer.e2e", "location": "INNSA1"}
    actions = [(e["actor"], e["action"]) for e in await rms.audit(be)]
    assert actions[-2:] == [("officer.e2e", "claimed"), ("officer.e2e", "examination_recorded")]


async def test_a_discrepancy_is_reassessed_by_the_faceless_group(rms: Rms) -> None:
    """RMS-1, RMS-FAG-1, INTAKE-SA-1: examined, discrepancy, re-assessed in group 5C; the
    importer's next BE is examined (its record)."""
    iec = new_iec()  # a discrepancy marks the importer: an importer of this test alone
    be = with_items((CCTV_PARTS, 900.0), (GOLD, 50.0), iec=iec)
    await rms.file(be)
    exam = await rms.claim(be, "/queues/locations/INNSA1", officer(), "examination")
    finding = {"outcome": "discrepancy", "findings": ["gold bar of 1 kg declared as 100 g"]}
    await rms.done(exam, "examination", finding, officer())
    assessor = officer("appraiser.e2e", location="INMAA1", groups="5C,5M")
    task = await rms.claim(be, "/queues/groups/5C", assessor)
    assert task["kind"] == "assessment"
    body = {"outcome": "reassessed", "assessed_duty": 3_100_000.5, "reasons": ["weight"]}
    response = await rms.record(task, "assessment", body, assessor)
    assert response.status_code == 200, response.text
    assessed = await rms.listener.data(ASSESSED, be)
    assert (assessed["outcome"], assessed["assessed_duty"]) == ("reassessed", 3_100_000.5)
    assert assessed["officer"]["location"] == "INMAA1"
    assert "task_reopened" in [e["action"] for e in await rms.audit(be)]
    following = new_bill_of_entry("H", iec=iec)
    decision = await rms.file(following)
    assert "importer-discrepancy-history" in decision["fired_rules"]
    task = await rms.claim(following, "/queues/groups/5C", officer())  # assessment first
    await rms.done(task, "assessment", {"outcome": "confirmed"}, officer())
    exam = await rms.claim(following, "/queues/locations/INNSA1", officer(), "examination")
    await rms.done(exam, "examination", {"outcome": "no_discrepancy"}, officer())


async def test_first_check_examines_before_assessment(rms: Rms) -> None:
    """RMS-2: the examination first, then the assessment opens."""
    be = new_bill_of_entry("H", first_check=True)
    decision = await rms.file(be)
    assert decision["selections"] == ["first_check", "assessment", "examination"]
    exam = await rms.claim(be, "/queues/locations/INNSA1", officer(), "examination")
    await rms.done(exam, "examination", {"outcome": "no_discrepancy"}, officer())
    task = await rms.claim(be, "/queues/groups/5C", officer())
    await rms.done(task, "assessment", {"outcome": "confirmed"}, officer())
    assessed = await rms.listener.data(ASSESSED, be)
    assert assessed["outcome"] == "confirmed"
    assert assessed["assessed_duty"] == be["duty"]["total_duty"]


async def test_a_partner_agency_noc_is_recorded(rms: Rms) -> None:
    """RMS-3: the tariff line needs FSSAI's NOC."""
    be = with_items((CCTV_PARTS, 900.0), (PEPPER, 40.0))
    decision = await rms.file(be)
    assert decision["selections"] == ["pga_noc"]
    assert decision["partner_agencies"] == ["FSSAI"]
    task = await rms.claim(be, "/queues/locations/INNSA1", officer(), "pga_noc")
    assert task["agency"] == "FSSAI"
    body = {"outcome": "granted", "reference": "FSSAI/NOC/INNSA1/E2E"}
    await rms.done(task, "pga-noc", body, officer())
    noc = await rms.listener.data(NOC, be)
    assert (noc["agency"], noc["outcome"], noc["reference"]) == (
        "FSSAI",
        "granted",
        body["reference"],
    )


async def test_a_claim_not_completed_in_time_expires(rms: Rms) -> None:
    """RMS-QUEUE-1: the claim timer gives the BE back to its queue; the late result is refused."""
    be = with_items((CCTV_PARTS, 900.0), (GOLD, 50.0))
    await rms.file(be)
    task = await rms.claim(be, "/queues/locations/INNSA1", officer("officer.slow"), "examination")
    await rms.advance(1_801)  # the default claim lasts 1,800 s
    for _ in range(300):
        state = await rms.client.get(f"/tasks/{task['task_id']}", headers=officer())
        if state.json()["state"] == "open":
            break
        await asyncio.sleep(0.2)
    assert state.json()["state"] == "open"
    late = await rms.record(
        task, "examination", {"outcome": "no_discrepancy"}, officer("officer.slow")
    )
    assert late.status_code == 409
    expired = [e for e in await rms.audit(be) if e["action"] == "claim_expired"]
    assert expired[0]["actor"] == "rms-router:claim-timer"
    again = await rms.claim(be, "/queues/locations/INNSA1", officer(), "examination")
    assert again["task_id"] == task["task_id"]
    assert again["claim_no"] == 2
    await rms.done(again, "examination", {"outcome": "no_discrepancy"}, officer())


async def test_an_amendment_that_invalidates_the_assessment_reopens_it(rms: Rms) -> None:
    """INTAKE-AMEND-1: registered v2 with assessment_invalidated, as be-intake publishes it.
    An AEO T1 importer (random interdiction may add an examination, RMS-LANES-1: 4 %)."""
    be = new_bill_of_entry("H", aeo_tier="T1")
    be["duty"] = {**be["duty"], "assessable_value": 30_000_000}  # rule high-value-self-assessment
    decision = await rms.file(be)
    assert "assessment" in decision["selections"]
    assert "high-value-self-assessment" in decision["fired_rules"]
    v1 = await rms.claim(be, "/queues/groups/5C", officer())
    await rms.done(v1, "assessment", {"outcome": "confirmed"}, officer())
    await rms.listener.data(ASSESSED, be)
    registered = {
        "bill_of_entry_ref": {
            **{k: be[k] for k in ("port_code", "be_no", "be_date")},
            "version": 2,
        },
        "bill_of_entry": be,
        "registered_at": datetime.now().astimezone().isoformat(),
        "aeo_certificate": {
            "certificate_no": f"IN{be['iec']}T1",
            "iec": be["iec"],
            "tier": "T1",
            "valid_from": "2020-01-01",
            "valid_to": "2030-12-31",
        },
        "amendment": {
            "amendment_no": 1,
            "changed_elements": ["duty.assessable_value"],
            "assessment_invalidated": True,
            "after_out_of_charge": False,
        },
    }
    event = CloudEvent.new(BILL_OF_ENTRY_REGISTERED, "/clearance/be-intake", key_of(be), registered)
    await rms.pipeline.producer.send_and_wait(
        BILL_OF_ENTRY_REGISTERED,
        value=event.kafka_value(),
        key=event.kafka_key(),
        headers=event.kafka_headers(),
    )
    v2 = await rms.listener.data(RMS_DECISION_MADE, be, version=2)
    assert "amendment-invalidates-assessment" in v2["fired_rules"]
    task = await rms.claim(be, "/queues/groups/5C", officer())
    assert task["bill_of_entry_ref"]["version"] == 2
    await rms.done(task, "assessment", {"outcome": "confirmed"}, officer())
    assessed = await rms.listener.data(ASSESSED, be, version=2)
    assert assessed["outcome"] == "confirmed"


async def test_a_rule_set_version_takes_effect_at_its_start_and_not_before(rms: Rms) -> None:
    """Rules as data: an administrator's version, in force from its effective_from."""
    iec = new_iec()
    rule_id = f"watch-{iec.lower()}"
    index = (await rms.client.get("/admin/policies", headers=ADMIN)).json()
    [entry] = [p for p in index if p["policy_id"] == "rms-rule-set"]
    versions = (await rms.client.get("/admin/policies/rms-rule-set", headers=ADMIN)).json()
    [in_force] = [v for v in versions if v["version"] == entry["in_force_now"]]
    body = in_force["body"]
    body["rules"].append(
        {
            "id": rule_id,
            "when": {"field": "importer.iec", "eq": iec},
            "then": {"select": ["scanning"], "cite": "RMS-3", "message": "importer under watch"},
        }
    )
    start = await rms.now() + timedelta(hours=1)
    added = await rms.client.post(
        "/admin/policies/rms-rule-set",
        json={
            "effective_from": start.isoformat(),
            "source_document": "e2e: an importer put under watch",
            "body": body,
        },
        headers=ADMIN,
    )
    assert added.status_code == 201, added.text
    before = await rms.file(new_bill_of_entry("H", iec=iec))
    assert before["rule_set"]["version"] == in_force["version"]
    assert rule_id not in before["fired_rules"]
    await rms.advance((start - await rms.now()).total_seconds() + 1)
    be = new_bill_of_entry("H", iec=iec)
    after = await rms.file(be)
    assert after["rule_set"]["version"] == added.json()["version"]
    assert after["fired_rules"] == [rule_id]
    task = await rms.claim(be, "/queues/locations/INNSA1", officer(), "scanning")
    await rms.done(task, "examination", {"outcome": "no_discrepancy"}, officer())
    scanned = await rms.listener.data(EXAMINED, be)
    assert scanned["method"] == "scanning"


async def test_an_invalidated_be_leaves_the_queues(rms: Rms) -> None:
    """INTAKE-PRIOR-1 as be-intake reports it: the BE's open and waiting tasks are withdrawn."""
    be = new_bill_of_entry("H", first_check=True)
    decision = await rms.file(be)
    assert decision["selections"] == ["first_check", "assessment", "examination"]
    invalidated = {
        "bill_of_entry_ref": {
            **{k: be[k] for k in ("port_code", "be_no", "be_date")},
            "version": 1,
        },
        "reasons": [
            {"rule_id": "INTAKE-PRIOR-1", "message": "no arrival of the carrier within 30 days"}
        ],
        "invalidated_at": datetime.now().astimezone().isoformat(),
    }
    await rms.pipeline.publish(BILL_OF_ENTRY_INVALIDATED, invalidated, "/clearance/be-intake")
    entries = await rms.audit(be, until="invalidated")
    withdrawn = [e["detail"] for e in entries if e["action"] == "task_withdrawn"]
    assert sorted(d["kind"] for d in withdrawn) == ["assessment", "examination"]
    for detail in withdrawn:
        task = await rms.client.get(f"/tasks/{detail['task_id']}", headers=officer())
        assert task.json()["state"] == "withdrawn"
    queue = await rms.client.get(
        "/queues/locations/INNSA1", params={"limit": 1000}, headers=officer()
    )
    assert key_of(be) not in {
        "/".join(identity(t["bill_of_entry_ref"] or t["shipping_bill_ref"]))
        for t in queue.json()["tasks"]
    }


async def test_a_seal_tampered_on_export_is_examined_under_its_shipping_bill(rms: Rms) -> None:
    """SEAL-DATA-2, SEAL-TAMPER-1 through warehouse-seal: the export's seal read tampered at
    the customs station; rms-router puts the Shipping Bill in its custom house's queue, the
    officer examines, the Shipping Bill's audit trail keeps it (no event: no service here
    follows a Shipping Bill)."""
    seals = httpx.AsyncClient(base_url=rms.pipeline.services["warehouse-seal"].url, timeout=30)
    clock = (await seals.get("/admin/clock", headers=ADMIN)).json()["now"]
    seal_no = new_seal_no("RFSL")
    sb = {
        "port_code": "INMAA1",
        "sb_no": f"{random.randrange(10**6, 10**7)}",
        "sb_date": "2026-03-02",
    }
    await rms.pipeline.publish(SEAL_SOLD, seal_sale(seal_no, "MAA4W001"), "/rfid-vendors/e2e")
    sealing = {
        "seal_no": seal_no,
        "movement": "warehouse_to_customs_station",
        "iec": "AAGCS4417M",
        "bill_of_entry": None,
        "shipping_bill": sb,
        "sealed_at": clock,
        "container_no": None,
        "vehicle_no": "TN 02 AX 7781",
        "warehouse_code": "MAA4W001",
        "origin_warehouse_code": None,
        "destination_warehouse_code": None,
        "customs_location_code": "INMAA1",
    }
    await rms.pipeline.publish(AFFIXED, sealing, "/rfid-vendors/e2e")
    for _ in range(300):
        trip = await seals.get(f"/seal-trips/{seal_no}", headers=officer(location="INMAA1"))
        if trip.status_code == 200 and trip.json()["trip"] is not None:
            break
        await asyncio.sleep(0.1)
    scan = {
        "seal_no": seal_no,
        "tid": tid_of(seal_no),
        "reader_id": "RDR-INMAA1",
        "location_code": "INMAA1",
        "location_kind": "customs_station",
        "scanned_at": clock,
        "tamper_status": "tampered",
    }
    await rms.pipeline.publish(SCANNED, scan, "/rfid-readers/e2e")
    await seals.aclose()
    examiner = officer(location="INMAA1", groups="")
    task = await rms.claim(sb, "/queues/locations/INMAA1", examiner, "examination")
    assert (task["bill_of_entry_ref"], task["shipping_bill_ref"]) == (None, sb)
    assert task["summary"]["forced"] == "seal-tampered-at-export"
    assert task["instructions"].endswith("(SEAL-TAMPER-1)")
    body = {"outcome": "discrepancy", "findings": ["seal cut; 12 cartons short of the invoice"]}
    result = await rms.done(task, "examination", body, examiner)
    assert result["shipping_bill_ref"] == sb
    assert result["findings"][0]["rule_id"] == "SEAL-TAMPER-1"
    entries = await rms.audit(sb, "shipping-bills", until="examination_recorded")
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("warehouse-seal", "seal_tampered_at_export"),
        ("rms-router", "task_opened"),
        ("officer.e2e", "claimed"),
        ("officer.e2e", "examination_recorded"),
    ]
    assert entries[0]["reasons"][0]["rule_id"] == "SEAL-TAMPER-1"
    assert rms.listener.for_key(EXAMINED, "/".join(identity(sb))) == []


@pytest.mark.slow
async def test_queue_endpoints_timing(rms: Rms) -> None:
    """Measured, not asserted (README of rms-router): claim and record over HTTP for
    50 examinations at one location, with the queue holding them all."""
    bills = [with_items((CCTV_PARTS, 900.0), (GOLD, 50.0)) for _ in range(50)]
    for be in bills:
        await rms.pipeline.file(be)
    for be in bills:
        await rms.listener.data(RMS_DECISION_MADE, be)
    claims, records = [], []
    mine = {key_of(be) for be in bills}
    while mine:
        start = time.perf_counter()
        response = await rms.client.post(
            "/queues/locations/INNSA1/claim", params={"kind": "examination"}, headers=officer()
        )
        claims.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
        task = response.json()
        start = time.perf_counter()
        await rms.done(task, "examination", {"outcome": "no_discrepancy"}, officer())
        records.append(time.perf_counter() - start)
        mine.discard("/".join(identity(task["bill_of_entry_ref"] or task["shipping_bill_ref"])))
    for name, times in (("claim", claims), ("record examination", records)):
        ordered = sorted(times)
        print(
            f"{name}: n={len(ordered)} p50={ordered[len(ordered) // 2] * 1e3:.1f} ms"
            f" p95={ordered[int(len(ordered) * 0.95)] * 1e3:.1f} ms max={ordered[-1] * 1e3:.1f} ms"
        )
    assert len(claims) >= len(bills)
