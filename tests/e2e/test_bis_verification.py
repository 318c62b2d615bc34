"""bis-verifier on real Kafka, PostgreSQL and the BIS registry server (issue 10).

Registered BE versions are published as be-intake would publish them, with
real registrations of the 2021 BIS-CRS register on dates they were valid, and
toys of the registry's sample CM/L licences (SAMPLE DATA). Each test uses fresh
BE numbers; the registry-outage test stops the session's registry server and
always starts it again.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from clearance_contracts import (
    BILL_OF_ENTRY_REGISTERED,
    BIS_SAMPLE_CONCLUDED,
    BIS_VERIFICATION_COMPLETED,
    BIS_VERIFICATION_PENDING,
    EXAMINATION_COMPLETED,
    SAMPLE_TEST_REPORTED,
    example,
)
from clearance_local.bis_registry import BisRegistry
from clearance_local.stack import Endpoints
from clearance_runtime.envelope import CloudEvent
from pipeline_harness import Listener, Pipeline, headers

pytestmark = pytest.mark.e2e

FILED = "icegate.bill-of-entry.filed.v1"
WATCHED = (BIS_VERIFICATION_COMPLETED, BIS_VERIFICATION_PENDING, BIS_SAMPLE_CONCLUDED)
OFFICER = headers("officer", "officer-7")
TOY_PARTS = [f"IS 9873 (Part {n})" for n in (1, 2, 3, 4, 7, 9)]
TWO_CERTIFICATES = [TOY_PARTS, ["IS 9873", "IS 15644:2006"]]


@pytest.fixture(scope="module")
async def bis_events(infra: Endpoints) -> AsyncIterator[Listener]:
    listener = Listener(infra.kafka_bootstrap, WATCHED)
    await listener.start()
    yield listener
    await listener.stop()


# -- filings of real registrations --------------------------------------------------------


def _dahua(be_date: str = "2025-03-20", **item_changes: Any) -> dict[str, Any]:
    """The contracts' example: five Dahua CCTV models under R-41087785 (valid to
    30-Apr-2025), with a fresh BE number."""
    be = copy.deepcopy(example(FILED))
    be.update(be_no=f"{random.randrange(10**6, 10**7):07d}", be_date=be_date)
    be["filed_at"] = f"{be_date}T10:42:17+05:30"
    for item in be["invoices"][0]["items"]:
        item.update(item_changes)
    return be


def _registered_goods(
    number: str,
    be_date: str,
    cth: str,
    description: str,
    manufacturer: str,
    location: str,
    model: str,
) -> dict[str, Any]:
    """One item of a real registration's goods, declared as the register has them."""
    be = _dahua(be_date)
    invoice = be["invoices"][0]
    item = invoice["items"][0]
    item.update(
        cth=cth,
        description=description,
        manufacturer=manufacturer,
        model=model,
        manufacturing_location=location,
    )
    invoice["items"] = [item]
    invoice["supplier_name"] = manufacturer
    be["supporting_documents"] = [
        {
            "document_type": "bis_registration",
            "reference": number,
            "invoice_sl_no": 1,
            "item_sl_no": 1,
        }
    ]
    return be


def _toys(certificates: list[list[str]], be_date: str = "2021-02-01") -> dict[str, Any]:
    """Two toys of Ningbo Sunrise Toys under CM/L-4100062 (registry SAMPLE DATA)."""
    be = _dahua(be_date)
    invoice = be["invoices"][0]
    maker = "Ningbo Sunrise Toys Co., Ltd."
    factory = "No. 18 Xingye Road, Yinzhou Industrial Park, Ningbo, Zhejiang 315104, China"
    invoice["supplier_name"] = maker
    invoice["items"] = [
        {
            "item_sl_no": n,
            "cth": "95030020",
            "description": description,
            "quantity": 1200,
            "unit": "NOS",
            "unit_price": 2.4,
            "country_of_origin": "CN",
            "manufacturer": maker,
            "manufacturing_location": factory,
            "isi_mark": True,
        }
        for n, description in enumerate(("WOODEN JIGSAW PUZZLE, 100 PIECES", "PLUSH TEDDY BEAR"), 1)
    ]
    be["supporting_documents"] = [
        {"document_type": "bis_cml_licence", "reference": "CM/L-4100062", "invoice_sl_no": 1}
    ] + [
        {
            "document_type": "conformity_certificate",
            "reference": f"TC-{be['be_no']}-{k}",
            "invoice_sl_no": 1,
            "standards": standards,
        }
        for k, standards in enumerate(certificates, 1)
    ]
    return be


def _key(be: dict[str, Any]) -> str:
    return f"{be['port_code']}/{be['be_no']}/{be['be_date']}"


def _ref(be: dict[str, Any], version: int = 1) -> dict[str, Any]:
    return {**{k: be[k] for k in ("port_code", "be_no", "be_date")}, "version": version}


async def _publish(pipeline: Pipeline, event_type: str, key: str, data: dict[str, Any]) -> None:
    event = CloudEvent.new(event_type, "/test/bis-verification", key, data)
    await pipeline.producer.send_and_wait(
        event_type, value=event.kafka_value(), key=event.kafka_key(), headers=event.kafka_headers()
    )


async def _register(pipeline: Pipeline, be: dict[str, Any], version: int = 1) -> None:
    """What be-intake publishes when it registers a version of the BE."""
    data = {
        "bill_of_entry_ref": _ref(be, version),
        "bill_of_entry": be,
        "registered_at": datetime.now(UTC).isoformat(),
    }
    await _publish(pipeline, BILL_OF_ENTRY_REGISTERED, _key(be), data)


async def _verdict(
    events: Listener, be: dict[str, Any], count: int = 1, timeout: float = 60
) -> dict[str, Any]:
    records = await events.wait_for(BIS_VERIFICATION_COMPLETED, _key(be), count, timeout)
    body: dict[str, Any] = orjson.loads(records[count - 1].value)
    return body


def _rules(verdict: dict[str, Any]) -> list[str]:
    return [finding["rule_id"] for finding in verdict["findings"]]


# -- BIS-CRS-1..4 -----------------------------------------------------------------------------


async def test_a_valid_cctv_consignment_passes(pipeline: Pipeline, bis_events: Listener) -> None:
    """BIS-CRS-1..4: R-41087785 valid on the BE date; manufacturer, models and factory
    match. The verdict names the catalogue version and when the registry was read."""
    be = _dahua()
    await _register(pipeline, be)
    verdict = await _verdict(bis_events, be)
    assert verdict["verdict"] == "passed"
    assert verdict["catalogue"] == {"policy_id": "bis-coverage-catalogue", "version": 1}
    assert verdict["registry_snapshot_at"] is not None
    assert [item["result"] for item in verdict["items"]] == ["passed"] * 5
    assert verdict["items"][0]["registration_no"] == "R-41087785"
    assert verdict["items"][0]["covered_by"]["category"] == "CCTV cameras"

    url = pipeline.services["bis-verifier"].url
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        view = (await client.get(f"/verifications/{_key(be)}", headers=OFFICER)).json()
    assert view["versions"][0]["state"] == "verified"
    assert view["versions"][0]["verdict"] == "passed"


NOT_VALID_AT_CLEARANCE = [
    pytest.param(
        ("R-41083356", "2019-06-10", "85044090", "AC ADAPTER FOR IT EQUIPMENT",
         "Shenzhen Yizhongda Electronics Technology Co., Ltd",
         "6th Floor, B Area, Building A, Chaxi Xiawei Yuan Industry Park, Gushu Community",
         "YZD-050500U"),
        "BIS-CRS-2", "deferred", id="deferred",
    ),
    pytest.param(
        ("R-41106372", "2020-08-03", "85258090", "CCTV CAMERA", "Hanwha Techwin (Tianjin) Co., Ltd",
         "No. 11 Weiliu Road, Microelectronics Industrial Park, Tianjin", "SNF-8010"),
        "BIS-CRS-2", "cancelled", id="cancelled",
    ),
    pytest.param(
        ("R-41115142", "2021-02-01", "85258090", "CCTV CAMERA",
         "Shenzhen Kiosk Electronic Co., Ltd.",
         "2#, Wanhongda Industrial Park, Xinfeng Road, Xintian Market, Longhua District",
         "VM-72AB4G510"),
        "BIS-CRS-1", "valid only up to 2021-01-10", id="expired",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("goods", "rule", "text"), NOT_VALID_AT_CLEARANCE)
async def test_registrations_not_valid_at_clearance_fail(
    pipeline: Pipeline,
    bis_events: Listener,
    goods: tuple[str, str, str, str, str, str, str],
    rule: str,
    text: str,
) -> None:
    """BIS-CRS-2 (deferred, cancelled never clear), BIS-CRS-1 (expired at clearance)."""
    be = _registered_goods(*goods)
    await _register(pipeline, be)
    verdict = await _verdict(bis_events, be)
    assert verdict["verdict"] == "failed"
    assert _rules(verdict) == [rule]
    assert text in verdict["findings"][0]["message"]


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"model": "DH-IPC-HDBW1431EQ"}, "is not in the scope of registration R-41087785"),
        (
            {"manufacturer": "HANGZHOU HIKVISION DIGITAL TECH CO"},
            "is not the registered 'ZHEJIANGDAHUAZHILIANCO.,LTD.'",
        ),
        (
            {"manufacturing_location": "No. 1199 Bin'an Road, Binjiang District, Hangzhou, China"},
            "is not the registered factory of R-41087785",
        ),
    ],
    ids=["model", "manufacturer", "factory"],
)
async def test_a_mismatch_with_the_registration_fails(
    pipeline: Pipeline, bis_events: Listener, change: dict[str, str], text: str
) -> None:
    """BIS-CRS-3: manufacturer, model and manufacturing location must be the registered ones."""
    be = _dahua(**change)
    await _register(pipeline, be)
    verdict = await _verdict(bis_events, be)
    assert verdict["verdict"] == "failed"
    assert _rules(verdict) == ["BIS-CRS-3"] * 5
    assert text in verdict["findings"][0]["message"]


async def test_an_amended_version_is_verified_again(
    pipeline: Pipeline, bis_events: Listener
) -> None:
    """One verdict per BE version: v1 declares a model out of scope; v2 corrects it."""
    wrong = _dahua(model="DH-IPC-HDBW1431EQ")
    await _register(pipeline, wrong)
    assert (await _verdict(bis_events, wrong))["verdict"] == "failed"
    corrected = copy.deepcopy(wrong)
    for item, model in zip(corrected["invoices"][0]["items"], _models(), strict=True):
        item["model"] = model
    await _register(pipeline, corrected, version=2)
    second = await _verdict(bis_events, corrected, count=2)
    assert second["bill_of_entry_ref"]["version"] == 2
    assert second["verdict"] == "passed"


def _models() -> list[str]:
    return [item["model"] for item in example(FILED)["invoices"][0]["items"]]


# -- BIS-QCO-1..3 and the laboratory ----------------------------------------------------------


async def test_toys_with_one_consolidated_certificate_are_held(
    pipeline: Pipeline, bis_events: Listener
) -> None:
    """BIS-QCO-2: one certificate for IS 9873 and IS 15644 holds the consignment."""
    be = _toys([[*TOY_PARTS, "IS 15644:2006"]])
    await _register(pipeline, be)
    verdict = await _verdict(bis_events, be)
    assert verdict["verdict"] == "failed"
    assert _rules(verdict) == ["BIS-QCO-2", "BIS-QCO-2"]
    assert verdict["sampling"] is None


@pytest.mark.parametrize(
    ("outcome", "concluded"), [("pass", "conforming"), ("fail", "non_conforming")]
)
async def test_toys_with_two_certificates_clear_conditionally_until_the_lab_concludes(
    pipeline: Pipeline, bis_events: Listener, outcome: str, concluded: str
) -> None:
    """BIS-QCO-1..3: conditional clearance with samples drawn; the NABL laboratory's
    report concludes it (a failure: re-export or destruction at the importer's cost)."""
    be = _toys(TWO_CERTIFICATES)
    await _register(pipeline, be)
    verdict = await _verdict(bis_events, be)
    assert verdict["verdict"] == "conditional"
    assert verdict["sampling"]["items"] == [1, 2]
    assert verdict["sampling"]["reason"]["rule_id"] == "BIS-QCO-3"
    assert verdict["items"][0]["licence_no"] == "CM/L-0004100062"

    report = {
        "bill_of_entry_ref": _ref(be),
        "laboratory": "Shriram Institute for Industrial Research, Delhi",
        "report_no": f"SIIR/TOY/{be['be_no']}",
        "results": [
            {"item_sl_no": n, "outcome": outcome, "standards": ["IS 9873 (Part 1)"]} for n in (1, 2)
        ],
        "reported_at": datetime.now(UTC).isoformat(),
    }
    await _publish(pipeline, SAMPLE_TEST_REPORTED, _key(be), report)
    [record] = await bis_events.wait_for(BIS_SAMPLE_CONCLUDED, _key(be))
    body = orjson.loads(record.value)
    assert body["outcome"] == concluded
    assert body["report_no"] == report["report_no"]
    assert body["reasons"][0]["rule_id"] == "BIS-QCO-3"


async def test_cro_goods_sampled_at_examination_await_the_lab(
    pipeline: Pipeline, bis_events: Listener
) -> None:
    """Instruction 28/2023, RMS-SAMPLE-1: RMS picked the consignment; the officer drew a
    sample at examination; the laboratory's pass concludes it."""
    be = _dahua()
    await _register(pipeline, be)
    await _verdict(bis_events, be)
    examined = {
        **example(EXAMINATION_COMPLETED),
        "bill_of_entry_ref": _ref(be),
        "outcome": "samples_drawn",
        "findings": [
            {
                "rule_id": "RMS-SAMPLE-1",
                "message": "two pieces of item 1 drawn for testing against IS 13252 (Part 1)",
                "item_sl_no": 1,
            }
        ],
        "samples": [1],
        "examined_at": datetime.now(UTC).isoformat(),
    }
    await _publish(pipeline, EXAMINATION_COMPLETED, _key(be), examined)
    report = {**example(SAMPLE_TEST_REPORTED), "bill_of_entry_ref": _ref(be)}
    await _publish(pipeline, SAMPLE_TEST_REPORTED, _key(be), report)
    [record] = await bis_events.wait_for(BIS_SAMPLE_CONCLUDED, _key(be))
    body = orjson.loads(record.value)
    assert body["outcome"] == "conforming"
    assert body["reasons"][0]["rule_id"] == "RMS-SAMPLE-1"


# -- a registry outage ------------------------------------------------------------------------


@pytest.mark.timeout(400)
async def test_a_registry_outage_holds_the_be_pending_until_the_registry_recovers(
    pipeline: Pipeline, bis_events: Listener, bis_registry: BisRegistry
) -> None:
    """Never passed unverified: with the registry down the BE waits as verification
    pending (announced, shown by the status view and the metrics) and is retried; when the
    registry answers again it is verified. R-41084689 is used by no other test, so no
    fresh answer of it is cached."""
    be = _registered_goods(
        "R-41084689",
        "2021-02-01",
        "85258090",
        "CCTV CAMERA",
        "Shenzhen Axischina Technology Co., Ltd",
        "Room 2, 2 Floor, Dahe Road No. 80-5, Dahe Community, Guanlan, Longhua",
        "BIIRDNTHC500FS",
    )
    verifier = pipeline.services["bis-verifier"].url
    await asyncio.to_thread(bis_registry.stop)
    try:
        await _register(pipeline, be)
        [pending] = await bis_events.wait_for(BIS_VERIFICATION_PENDING, _key(be), timeout=90)
        body = orjson.loads(pending.value)
        assert body["lookups"] == [{"kind": "registration", "number": "R-41084689"}]
        assert body["reasons"][0]["rule_id"] == "BIS-CRS-1"
        async with httpx.AsyncClient(base_url=verifier, timeout=10) as client:
            view = (await client.get(f"/verifications/{_key(be)}", headers=OFFICER)).json()
            assert view["versions"][0]["state"] == "verification_pending"
            assert view["versions"][0]["waiting"]["last_error"]
            for _ in range(50):  # the gauge is refreshed every 2 s
                metrics = (await client.get("/metrics")).text
                if _gauge(metrics, 'state="retrying"') >= 1:
                    break
                await asyncio.sleep(0.5)
            assert _gauge(metrics, 'state="retrying"') >= 1
        await asyncio.sleep(3)  # retried meanwhile, still no verdict
        assert bis_events.for_key(BIS_VERIFICATION_COMPLETED, _key(be)) == []
    finally:
        await asyncio.to_thread(bis_registry.start)
    verdict = await _verdict(bis_events, be, timeout=90)
    assert verdict["verdict"] == "passed"


def _gauge(metrics: str, label: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("clearance_bis_verifications_pending{") and label in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0
