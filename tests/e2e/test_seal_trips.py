"""RFID one-time-lock seal trips on real Kafka and PostgreSQL, through warehouse-seal's
process (Circular 19/2018 as re-issued, SEAL-*): sale, sealing, reader scans, trip
report (JSON and PDF), tamper, delay and deadline timers on the service's own clock
(moved with POST /admin/clock), the warehouse match for Out of Charge (OOC-WH-1).

Tests share the session's processes and each moves warehouse-seal's clock only
forward from wherever it is (read first); every seal and BE is fresh.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from clearance_local.services import ServiceProcess
from PIL import Image
from pipeline_harness import (
    ADMINISTRATOR,
    DUTY_DEMAND,
    GATEPASS,
    HELD,
    SEAL_ALERT,
    SEAL_RECONCILED,
    SEAL_SOLD,
    Pipeline,
    headers,
    key_of,
    new_bill_of_entry,
    new_seal_no,
    seal_sale,
    tid_of,
)

pytestmark = pytest.mark.e2e

AFFIXED = "vendor.rfid-seal.affixed.v1"
SCANNED = "reader.rfid-seal.scanned.v1"
OFFICER = headers("officer", "officer-4711")
CUSTODIAN = headers("custodian", "licensee-maa4w001")
DELAY_HOURS = 72  # seal-circular's inordinate_delay_hours (checked against the policy below)


class Seals:
    """warehouse-seal's HTTP API and its clock, and the vendors' and readers' events."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.url = pipeline.services["warehouse-seal"].url

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=15)

    async def now(self) -> datetime:
        async with self.client() as client:
            response = await client.get("/admin/clock", headers=ADMINISTRATOR)
        return datetime.fromisoformat(response.json()["now"])

    async def advance(self, delta: timedelta) -> datetime:
        async with self.client() as client:
            moved = await client.post(
                "/admin/clock",
                json={"advance_seconds": delta.total_seconds()},
                headers=ADMINISTRATOR,
            )
        assert moved.status_code == 200, moved.text
        return datetime.fromisoformat(moved.json()["now"])

    async def sell(self, seal_no: str, warehouse: str, **changes: Any) -> None:
        sale = seal_sale(seal_no, warehouse, **changes)
        await self.pipeline.publish(SEAL_SOLD, sale, "/rfid-vendors/test-vendor")

    async def cleared_and_sealed(self) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """A warehousing BE filed and cleared (OOC-WH-1), its first container's seal affixed
        for the move to the warehouse (SEAL-DATA-1): the BE, the seal and the trip's view."""
        be = new_bill_of_entry("W")
        await self.pipeline.file(be)
        await self.pipeline.listener.wait_for(GATEPASS, key_of(be))
        seal_no = be["containers"][0]["seal_no"]
        await self.seal(seal_no, be)
        return be, seal_no, await self.trip(seal_no, _sealed)

    async def seal(self, seal_no: str, be: dict[str, Any] | None = None, **changes: Any) -> None:
        """SEAL-DATA-1: the sealing of a customs station -> warehouse movement."""
        sealing = await self.sealing(seal_no, be, **changes)
        await self.pipeline.publish(AFFIXED, sealing, "/rfid-vendors/test-web-application")

    async def sealing(
        self, seal_no: str, be: dict[str, Any] | None = None, **changes: Any
    ) -> dict[str, Any]:
        be = be or new_bill_of_entry("W")
        container = next(
            (c for c in be["containers"] if c["seal_no"] == seal_no), be["containers"][0]
        )
        return {
            "seal_no": seal_no,
            "movement": "customs_station_to_warehouse",
            "iec": be["iec"],
            "bill_of_entry": {k: be[k] for k in ("port_code", "be_no", "be_date")},
            "shipping_bill": None,
            "sealed_at": (await self.now()).isoformat(),
            "container_no": container["container_no"],
            "vehicle_no": "TN 02 AX 7781",
            "warehouse_code": be["warehouse_code"],
            "origin_warehouse_code": None,
            "destination_warehouse_code": None,
            "customs_location_code": be["port_code"],
            **changes,
        }

    async def scan(self, seal_no: str, location: str, **changes: Any) -> None:
        scan = {
            "seal_no": seal_no,
            "tid": tid_of(seal_no),
            "reader_id": f"RDR-{location}",
            "location_code": location,
            "location_kind": "customs_station" if len(location) == 6 else "warehouse",
            "scanned_at": (await self.now()).isoformat(),
            "tamper_status": "intact",
            **changes,
        }
        await self.pipeline.publish(SCANNED, scan, "/rfid-readers/test-reader")

    async def trip(
        self, seal_no: str, until: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        """GET /seal-trips/{seal_no} until `until(view)` holds."""
        async with asyncio.timeout(timeout), self.client() as client:
            while True:
                response = await client.get(f"/seal-trips/{quote(seal_no)}", headers=OFFICER)
                if response.status_code == 200 and until(view := response.json()):
                    return view
                await asyncio.sleep(0.2)


@pytest.fixture
def seals(pipeline: Pipeline) -> Seals:
    return Seals(pipeline)


def _look_at(pdf: bytes, folder: Path) -> tuple[int, int, float, str]:
    """The PDF as a person sees it: its first page rendered by poppler at 60 dpi (size,
    share of dark pixels) and its text layer."""
    path = folder / "trip-report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(folder / "page")], check=True)
    [page] = sorted(folder.glob("page*.png"))
    image = Image.open(page).convert("L")
    width, height = image.size
    dark = sum(image.histogram()[:128]) / (width * height)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return width, height, dark, text


def _restart(service: ServiceProcess) -> None:
    """SIGTERM (the batch in hand is finished), then start again; a loaded machine may
    take a while to bring a Python service up."""
    service.stop()
    service.start(timeout=240)


def _data(record: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(record.value)
    return data


def _sealed(view: dict[str, Any]) -> bool:
    return view["trip"] is not None


async def _alerts(pipeline: Pipeline, key: str, seal_no: str, alert: str) -> list[dict[str, Any]]:
    async with asyncio.timeout(30):
        while True:
            found = [
                d
                for r in pipeline.listener.for_key(SEAL_ALERT, key)
                if (d := _data(r))["seal_no"] == seal_no and d["alert"] == alert
            ]
            if found:
                return found
            await asyncio.sleep(0.1)


async def _verdicts(pipeline: Pipeline, be: dict[str, Any], count: int = 1) -> list[dict[str, Any]]:
    records = await pipeline.listener.wait_for(SEAL_RECONCILED, key_of(be), count)
    return [_data(r) for r in records]


async def test_seal_trip_1_a_clean_trip_clears_the_be_and_makes_a_printable_report(
    pipeline: Pipeline, seals: Seals, tmp_path: Path
) -> None:
    """SEAL-LINK-1, OOC-WH-1: sold, declared, matched, released; SEAL-DATA-1 sealing;
    SEAL-TRIP-1: origin and destination scans, the trip report as JSON and PDF."""
    be = new_bill_of_entry("W")
    await pipeline.file(be)  # the harness publishes the vendors' sales first
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
    [verdict] = await _verdicts(pipeline, be)
    assert verdict["outcome"] == "matched"
    assert {f["rule_id"] for f in verdict["findings"]} == {"SEAL-LINK-1"}

    seal_no = be["containers"][0]["seal_no"]
    await seals.seal(seal_no, be)
    await seals.trip(seal_no, _sealed)
    await seals.scan(seal_no, be["port_code"])
    await seals.trip(seal_no, lambda v: v["trip"]["state"] == "in_transit")
    await seals.scan(seal_no, be["warehouse_code"])
    view = await seals.trip(seal_no, lambda v: v["trip"]["state"] == "arrived")
    assert view["trip"]["acknowledged_at"] == view["trip"]["arrived_at"]
    assert view["trip"]["alerts"] == []

    async with seals.client() as client:
        report = (await client.get(f"/seal-trips/{quote(seal_no)}/report", headers=OFFICER)).json()
        pdf = await client.get(
            f"/seal-trips/{seal_no.replace(' ', '')}/report.pdf", headers=CUSTODIAN
        )
        nobody = await client.get(f"/seal-trips/{quote(seal_no)}/report")
    assert nobody.status_code == 401
    assert report["seal_no"] == seal_no
    assert report["document"] == f"BE {key_of(be)}"
    assert [s["role"] for s in report["scans"]] == ["origin", "destination"]
    assert report["acknowledgement"]["late"] is False
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    # The PDF as a person sees it: rendered by poppler, checked as an image and as text.
    assert shutil.which("pdftoppm"), "poppler-utils (bin/clearance installs it)"
    width, height, dark, text = await asyncio.to_thread(_look_at, pdf.content, tmp_path)
    assert abs(width / height - 210 / 297) < 0.01  # A4 portrait
    assert abs(width - 496) <= 1  # 8.27 x 11.69 in at 60 dpi
    assert abs(height - 702) <= 1
    assert 0.01 < dark < 0.5, dark  # printed on, not blank, not black
    for expected in ("RFID One-Time-Lock Trip Report", seal_no, report["report_no"], "SEAL-TRIP-1"):
        assert expected in text, expected

    # The trip report joins the BE's verdict (still matched), for the status view.
    [*_, latest] = await _verdicts(pipeline, be, 2)
    assert latest["outcome"] == "matched"
    assert "SEAL-TRIP-1" in {f["rule_id"] for f in latest["findings"]}


async def test_seal_tamper_2_a_tampered_arrival_refuses_unloading_and_alerts(
    pipeline: Pipeline, seals: Seals
) -> None:
    be, seal_no, _ = await seals.cleared_and_sealed()
    await seals.scan(seal_no, be["warehouse_code"], tamper_status="tampered")
    [alert] = await _alerts(pipeline, key_of(be), seal_no, "tamper_at_warehouse")
    assert alert["actions"] == ["unloading_refused", "bond_officer_informed"]
    assert alert["bill_of_entry_ref"]["be_no"] == be["be_no"]
    assert alert["reasons"][-1]["rule_id"] == "SEAL-TAMPER-2"
    view = await seals.trip(seal_no, lambda v: v["trip"]["state"] == "tampered")
    assert view["trip"]["unloading_refused"] is True
    assert view["trip"]["report"] is None  # a tampered trip discharges nothing
    [*_, latest] = await _verdicts(pipeline, be, 2)
    assert latest["outcome"] == "tampered"


async def test_seal_tamper_1_a_tampered_export_requires_examination(
    pipeline: Pipeline, seals: Seals
) -> None:
    """SEAL-DATA-2, SEAL-TAMPER-1: keyed by the Shipping Bill, for rms-router."""
    seal_no = new_seal_no("RFSL")
    await seals.sell(seal_no, "MAA4W001")
    sb = {
        "port_code": "INMAA1",
        "sb_no": f"{random.randrange(10**6, 10**7)}",
        "sb_date": "2026-03-02",
    }
    export = await seals.sealing(
        seal_no,
        movement="warehouse_to_customs_station",
        bill_of_entry=None,
        shipping_bill=sb,
        warehouse_code="MAA4W001",
        customs_location_code="INMAA1",
        container_no=None,
    )
    await pipeline.publish(AFFIXED, export, "/rfid-vendors/test-web-application")
    await seals.trip(seal_no, _sealed)
    await seals.scan(seal_no, "INMAA1", tamper_status="tampered")
    sb_key = f"{sb['port_code']}/{sb['sb_no']}/{sb['sb_date']}"
    [alert] = await _alerts(pipeline, sb_key, seal_no, "tamper_at_export")
    assert alert["document_key"] == sb_key
    assert alert["bill_of_entry_ref"] is None
    assert alert["shipping_bill_ref"] == sb
    assert alert["actions"] == ["examination_required"]
    view = await seals.trip(seal_no, lambda v: v["trip"]["examination_required"])
    assert view["trip"]["movement"] == "warehouse_to_customs_station"


async def test_seal_link_1_a_tid_that_is_not_the_sold_seals_is_a_tamper(
    pipeline: Pipeline, seals: Seals
) -> None:
    be, seal_no, _ = await seals.cleared_and_sealed()
    await seals.scan(seal_no, be["warehouse_code"], tid="E280117000000000DEADBEEF")
    [alert] = await _alerts(pipeline, key_of(be), seal_no, "tid_mismatch")
    assert alert["reasons"][0]["rule_id"] == "SEAL-LINK-1"
    assert "DEADBEEF" in alert["reasons"][0]["message"]
    view = await seals.trip(seal_no, lambda v: v["trip"]["state"] == "tampered")
    assert view["trip"]["scans"][0]["tid_matches"] is False


async def test_seal_delay_1_a_trip_not_arrived_in_time_alerts_the_bond_officer(
    pipeline: Pipeline, seals: Seals
) -> None:
    async with seals.client() as client:
        policies = (await client.get("/admin/policies/seal-circular", headers=ADMINISTRATOR)).json()
    assert {p["body"]["inordinate_delay_hours"] for p in policies} == {DELAY_HOURS}
    be = new_bill_of_entry("W")
    seal_no = be["containers"][0]["seal_no"]
    await seals.sell(seal_no, be["warehouse_code"])
    await seals.seal(seal_no, be)
    await seals.trip(seal_no, _sealed)
    await seals.advance(timedelta(hours=DELAY_HOURS - 1))
    await asyncio.sleep(2)
    assert not [r for r in pipeline.listener.for_key(SEAL_ALERT, key_of(be))]
    await seals.advance(timedelta(hours=2))
    [alert] = await _alerts(pipeline, key_of(be), seal_no, "inordinate_delay")
    assert alert["reasons"][0]["rule_id"] == "SEAL-DELAY-1"
    assert alert["location"] == be["warehouse_code"]


async def test_seal_ack_1_no_acknowledgement_in_a_month_raises_the_duty_demand(
    pipeline: Pipeline, seals: Seals
) -> None:
    be, seal_no, view = await seals.cleared_and_sealed()
    due = datetime.fromisoformat(view["trip"]["acknowledgement_due_at"])
    sealed = datetime.fromisoformat(view["trip"]["sealed_at"])
    assert 28 <= (due - sealed).days <= 31  # one calendar month
    await seals.advance(due - await seals.now() + timedelta(minutes=5))
    [record] = await pipeline.listener.wait_for(DUTY_DEMAND, key_of(be))
    demand = _data(record)
    assert demand["duty"] == be["duty"]["total_duty"]
    assert demand["interest"] > 0
    assert demand["penalty_flagged"] is True
    assert demand["reasons"][0]["rule_id"] == "SEAL-ACK-1"
    await _alerts(pipeline, key_of(be), seal_no, "acknowledgement_overdue")


async def test_seal_ack_1_an_extended_deadline_postpones_the_demand(
    pipeline: Pipeline, seals: Seals
) -> None:
    be, seal_no, view = await seals.cleared_and_sealed()
    due = datetime.fromisoformat(view["trip"]["acknowledgement_due_at"])
    extended = due + timedelta(days=10)
    async with seals.client() as client:
        answer = await client.post(
            f"/seal-trips/{quote(seal_no)}/acknowledgement-deadline",
            json={"extended_until": extended.isoformat(), "reason": "vessel diverted"},
            headers=OFFICER,
        )
        earlier = await client.post(
            f"/seal-trips/{quote(seal_no)}/acknowledgement-deadline",
            json={"extended_until": due.isoformat(), "reason": "shorter"},
            headers=OFFICER,
        )
        custodian = await client.post(
            f"/seal-trips/{quote(seal_no)}/acknowledgement-deadline",
            json={"extended_until": extended.isoformat(), "reason": "not theirs to give"},
            headers=CUSTODIAN,
        )
    assert answer.status_code == 200, answer.text
    trip = answer.json()["trip"]
    assert datetime.fromisoformat(trip["acknowledgement_due_at"]) == extended
    assert trip["acknowledgement_extension"]["officer"] == "officer-4711"
    assert earlier.status_code == 409
    assert custodian.status_code == 403
    await seals.advance(due - await seals.now() + timedelta(hours=1))
    await asyncio.sleep(3)
    assert pipeline.listener.for_key(DUTY_DEMAND, key_of(be)) == []
    await seals.advance(extended - await seals.now() + timedelta(minutes=5))
    [record] = await pipeline.listener.wait_for(DUTY_DEMAND, key_of(be))
    assert _data(record)["acknowledgement_due_at"] == extended.isoformat()


async def test_ooc_wh_1_a_seal_linked_to_another_warehouse_holds_the_be(
    pipeline: Pipeline, seals: Seals
) -> None:
    be = new_bill_of_entry("W")
    for container in be["containers"]:
        await seals.sell(container["seal_no"], "BLR4W009")  # sold to another licensee
    await pipeline.file(be)  # the harness's own sales of them are refused: sold already
    [held] = await pipeline.listener.wait_for(HELD, key_of(be))
    reasons = _data(held)["reasons"]
    assert reasons[0]["rule_id"] == "OOC-WH-1"
    assert any("linked to warehouse BLR4W009" in r["message"] for r in reasons)
    [verdict] = await _verdicts(pipeline, be)
    assert verdict["outcome"] == "mismatched"
    assert pipeline.listener.for_key(GATEPASS, key_of(be)) == []
    async with seals.client() as client:
        be_path = key_of(be)
        state = (await client.get(f"/seal-verdicts/{be_path}", headers=OFFICER)).json()
    assert state["state"] == "reconciled"
    assert state["verdict"]["outcome"] == "mismatched"


async def test_seal_fmt_1_a_reused_seal_is_refused_and_holds_the_second_be(
    pipeline: Pipeline, seals: Seals
) -> None:
    first = new_bill_of_entry("W")
    await pipeline.file(first)
    await pipeline.listener.wait_for(GATEPASS, key_of(first))
    seal_no = first["containers"][0]["seal_no"]
    second = new_bill_of_entry("W")
    second["containers"][0]["seal_no"] = seal_no  # the same one-time-lock again
    await pipeline.file(second)  # its sale is the same sale: a duplicate, not a new seal
    [held] = await pipeline.listener.wait_for(HELD, key_of(second))
    assert any("used once" in r["message"] for r in _data(held)["reasons"])
    async with seals.client() as client:
        sealing = await seals.sealing(seal_no, first)
        ok = await client.post("/seal-trips", json=sealing, headers=CUSTODIAN)
        again = await client.post("/seal-trips", json=sealing, headers=CUSTODIAN)
        reused = await client.post(
            "/seal-trips", json=await seals.sealing(seal_no, second), headers=CUSTODIAN
        )
        malformed = await client.post(
            "/seal-trips",
            json=await seals.sealing(
                new_seal_no(), second, vehicle_no="??", container_no="MSKU0000000"
            ),
            headers=CUSTODIAN,
        )
    assert ok.status_code == 201, ok.text
    assert again.status_code == 200  # the same sealing again
    assert reused.status_code == 422
    assert reused.json()["detail"]["reasons"][0]["rule_id"] == "SEAL-FMT-1"
    assert malformed.status_code == 422
    messages = " ".join(r["message"] for r in malformed.json()["detail"]["reasons"])
    assert "vehicle registration" in messages
    assert "ISO 6346" in messages
    view = await seals.trip(seal_no, lambda v: len(v["refusals"]) >= 1)
    assert view["refusals"][-1]["what"] == "sealing"


async def test_seal_sales_from_a_vendors_bulk_file(pipeline: Pipeline, seals: Seals) -> None:
    """SEAL-FMT-1, SEAL-LINK-1: a CSV upload, line by line; an unlisted vendor is refused."""
    good, unlisted = new_seal_no("ELCK"), new_seal_no("QQQQ")
    now = (await seals.now()).isoformat()
    lines = [
        "seal_no,tid,vendor_brand,warehouse_code,sold_at",
        f"{good},{tid_of(good)},ELCK,MAA4W001,{now}",
        f"{good},{tid_of(good)},ELCK,MAA4W001,{now}",
        f"{unlisted},{tid_of(unlisted)},QQQQ,MAA4W001,{now}",
        f"ABC 1,{tid_of(good)},ABC,MAA4W001,{now}",
    ]
    vendor = headers("upstream", "elck-uploader")
    async with seals.client() as client:
        answer = await client.post(
            "/seals/sales",
            content="\n".join(lines).encode(),
            headers={**vendor, "Content-Type": "text/csv"},
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["recorded"], body["duplicates"], body["refused"]) == (1, 1, 2)
    assert [line["outcome"] for line in body["lines"]] == [
        "recorded",
        "duplicate",
        "refused",
        "refused",
    ]
    assert "not a listed RFID seal vendor" in body["lines"][2]["reasons"][0]["message"]


@pytest.mark.timeout(600)  # two restarts; slow when the machine is loaded
async def test_a_timer_set_before_a_restart_fires_once_after_it(
    pipeline: Pipeline, seals: Seals
) -> None:
    """Timers are rows: the delay timer set by a sealing survives a restart of
    warehouse-seal (whose clock starts afresh) and fires exactly once."""
    be = new_bill_of_entry("W")
    seal_no = be["containers"][0]["seal_no"]
    await seals.sell(seal_no, be["warehouse_code"])
    await seals.seal(seal_no, be)
    view = await seals.trip(seal_no, _sealed)
    delay_due = datetime.fromisoformat(view["trip"]["sealed_at"]) + timedelta(hours=DELAY_HOURS)
    service = pipeline.services["warehouse-seal"]
    try:
        await asyncio.to_thread(_restart, service)
        await seals.advance(delay_due - await seals.now() + timedelta(minutes=5))
        await _alerts(pipeline, key_of(be), seal_no, "inordinate_delay")
        await asyncio.to_thread(_restart, service)
        await seals.advance(timedelta(hours=DELAY_HOURS) + delay_due - await seals.now())
        await asyncio.sleep(3)
    finally:
        if not service.is_ready():  # never leave the session's service stopped
            await asyncio.to_thread(_restart, service)
    alerts = [
        d
        for r in pipeline.listener.for_key(SEAL_ALERT, key_of(be))
        if (d := _data(r))["alert"] == "inordinate_delay"
    ]
    assert len(alerts) == 1
