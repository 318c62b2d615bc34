"""Issue 15: what operations staff see, in a real browser against the session's services.

The operations console (its BE tracker with the timeline and rule ids and a link to
the trace, stuck BEs and dead letters with a replay, officers' queues, flow, the
day's outcomes and release times) and every service's /docs, served without a CDN.
Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from browser import Page, chromium
from clearance_local.config import StackConfig
from clearance_local.keycloak import CONSOLE_CLIENT
from clearance_local.process import free_port
from clearance_local.services import CONSOLE, ServiceProcess
from clearance_local.stack import Endpoints
from clearance_runtime.envelope import CloudEvent
from pipeline_harness import FILED, GATEPASS, Pipeline, headers, key_of, new_bill_of_entry
from selenium import webdriver

pytestmark = pytest.mark.e2e

IST = timezone(timedelta(hours=5, minutes=30))
OFFICER = headers("officer", "officer-1")
RELEASED = ("released", "gatepass_issued", "goods_exited")  # statuses after OOC (STATUS-1)


@pytest.fixture(scope="module")
def console(service_processes: dict[str, ServiceProcess], infra: Endpoints) -> Iterator[str]:
    """The operations console as a process, reading the session's five services."""
    process = ServiceProcess.of(
        CONSOLE[0],
        CONSOLE[1],
        free_port(0),
        StackConfig.from_env("test"),
        infra,  # its own Kafka principal and the token issuer
        migrates=False,
        extra_env={
            **{svc.env_name: svc.url for svc in service_processes.values()},
            "CLEARANCE_ZIPKIN_URL": infra.zipkin_url,
            # It reads the services as itself: its client of the test stack's Keycloak.
            "CLEARANCE_AUTH_CLIENT_ID": CONSOLE_CLIENT,
            "CLEARANCE_AUTH_CLIENT_SECRET": infra.console_client_secret,
        },
    )
    process.stop()
    process.start()
    try:
        yield process.url
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def cleared(pipeline: Pipeline) -> dict[str, Any]:
    """A BE filed now that clears automatically (its gatepass issued)."""
    be = new_bill_of_entry("H")
    await pipeline.file(be)
    await pipeline.listener.wait_for(GATEPASS, key_of(be), timeout=90)
    async with asyncio.timeout(30):  # be-intake folds the OOC into its view
        while (await pipeline.status(be)).json()["status"] not in RELEASED:
            await asyncio.sleep(0.2)
    return be


@pytest.fixture(scope="module")
async def stuck(pipeline: Pipeline) -> dict[str, Any]:
    """A BE whose filing broke its contract: dead-lettered, the BE stuck."""
    be = new_bill_of_entry("H")
    broken = {**be, "invoices": []}
    await pipeline.file(be, CloudEvent.new(FILED, "/icegate/test-upstream", key_of(be), broken))
    async with asyncio.timeout(60):
        while (response := await pipeline.status(be, role="officer")).status_code != 200 or not (
            response.json()["stuck"]
        ):
            await asyncio.sleep(0.2)
    return be


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(page: Page, console: str, role: str = "administrator") -> None:
    page.open(f"{console}/")
    page.browser.execute_script("sessionStorage.clear()")  # a fresh person in this tab
    page.open(f"{console}/")
    page.wait_text("#message", "Sign in to see the platform.")
    page.type("#token", headers(role, f"{role}-1").token())  # a real Keycloak token
    page.find("#sign-in button[type=submit]").click()
    page.wait_text("#who", f"Signed in as {role}-1 ({role})")
    page.wait(lambda: page.browser.execute_script("return document.body.dataset.loaded"))


def test_the_tracker_finds_a_be_and_shows_its_timeline_rule_ids_and_trace(
    console: str, cleared: dict[str, Any], browser: webdriver.Chrome
) -> None:
    """Search by BE number and port, open the BE: its stages in order, each with its
    event; the link to its trace in the viewer (tag clearance.bill_of_entry)."""
    page = Page(browser, "tracker")
    sign_in(page, console)
    page.type("#q-be-no", cleared["be_no"])
    page.type("#q-port", cleared["port_code"])
    page.find("#search button").click()
    row = page.wait_text("#results tbody", key_of(cleared))
    assert cleared["iec"] in row  # the IEC of the filing
    assert "released" in row or "gatepass issued" in row
    page.screenshot("search")
    page.find("#results tbody tr.clickable").click()
    title = page.wait_text("#timeline-title", key_of(cleared))
    assert "released" in title or "gatepass issued" in title
    steps = page.wait(
        lambda: len(page.all("#timeline-steps > li")) >= 4 and page.all("#timeline-steps > li")
    )
    stages = [step.text for step in steps]
    assert any("registered" in s for s in stages)
    assert any("Out of Charge" in s and "out-of-charge.issued" in s for s in stages)
    link = page.wait(lambda: page.find("#timeline-links a"), what="a trace link")
    href = link.get_attribute("href") or ""
    assert href.startswith(f"{page.browser.current_url.split('/')[0]}") or "zipkin" in href
    assert "/zipkin/" in href
    page.screenshot("timeline")


def test_the_tracker_finds_bes_by_iec_and_be_date(
    console: str, cleared: dict[str, Any], browser: webdriver.Chrome
) -> None:
    page = Page(browser, "tracker-iec")
    sign_in(page, console, "officer")
    page.type("#q-iec", cleared["iec"])
    page.browser.execute_script(
        "document.querySelector('#q-date').value = arguments[0]", cleared["be_date"]
    )
    page.find("#search button").click()
    page.wait_text("#results tbody", key_of(cleared))
    assert all(cleared["iec"] in row.text for row in page.all("#results tbody tr"))
    page.screenshot("found")


def test_a_stuck_be_and_its_dead_letter_show_with_the_reason_and_can_be_replayed(
    console: str, stuck: dict[str, Any], browser: webdriver.Chrome
) -> None:
    """The stuck BE is listed; its dead letter names the service that gave up and why;
    an administrator replays it (and the page says so)."""
    page = Page(browser, "dead-letters")
    sign_in(page, console)
    page.wait_text("#stuck-bes tbody", key_of(stuck))
    rows = [r for r in page.all("#letters tbody tr") if key_of(stuck) in r.text]
    assert len(rows) == 1
    text = rows[0].text
    assert "be-intake" in text
    assert "contract: icegate.bill-of-entry.filed.v1: $.invoices" in text
    assert "yes" in text  # stuck
    page.browser.execute_script("arguments[0].scrollIntoView()", rows[0])
    page.screenshot("listed")
    rows[0].find_element("css selector", "button").click()
    page.wait_text("#message", f"Replayed 1 dead letter(s) of {key_of(stuck)}")
    assert rows[0].find_element("css selector", "button").text == "Replayed"
    page.screenshot("replayed")


def test_an_officer_sees_dead_letters_but_may_not_replay_them(
    console: str, stuck: dict[str, Any], browser: webdriver.Chrome
) -> None:
    page = Page(browser, "officer")
    sign_in(page, console, "officer")
    page.wait_text("#letters tbody", key_of(stuck))
    buttons = [b for b in page.all("#letters tbody button")]
    assert buttons
    assert all(not b.is_enabled() for b in buttons)
    page.screenshot("no-replay")


def test_queues_flow_and_the_day_show_what_the_services_report(
    console: str, cleared: dict[str, Any], browser: webdriver.Chrome
) -> None:
    """Officers' queue depths per location and group; consumer lag and outbox backlog of
    every service; the day's counts by outcome and release-time percentiles."""
    page = Page(browser, "overview")
    sign_in(page, console)
    queues = page.wait_text("#queue-table tbody", "examination")
    assert "not answering" not in queues
    flow = page.wait_text("#flow-table tbody", "ooc-issuer")
    for service in ("be-intake", "bis-verifier", "rms-router", "warehouse-seal", "ooc-issuer"):
        assert service in flow
    assert "not answering" not in flow
    # The customs day (IST) on which be-intake first saw the cleared BE, by its clock.
    found = httpx.get(
        f"{console}/api/bills-of-entry",
        params={"be_no": cleared["be_no"]},
        headers=OFFICER,
        timeout=10,
    ).json()["bills_of_entry"]
    day = datetime.fromisoformat(found[0]["first_seen_at"]).astimezone(IST).date().isoformat()
    page.browser.execute_script("document.querySelector('#day-on').value = arguments[0]", day)
    page.find("#day-form button").click()
    tiles = page.wait_text("#day-figures", "cleared automatically")
    cleared_count = int(
        page.find("#day-figures .figure:nth-child(2) b").text
    )  # "cleared automatically"
    assert cleared_count >= 1
    assert "filed" in tiles
    release = page.text("#release-table tbody tr:first-child")
    assert release.startswith("release (filing to Out of Charge)")
    assert "—" not in release.split(")", 1)[1]  # every percentile has a value
    page.browser.execute_script("document.querySelector('#queues').scrollIntoView()")
    page.screenshot("overview")


async def test_be_intake_finds_bes_for_staff_only(
    pipeline: Pipeline, cleared: dict[str, Any], stuck: dict[str, Any]
) -> None:
    """GET /bills-of-entry (officers, administrators): by BE, IEC, port and date, and the
    stuck ones; each with its milestones (filing, registration, RMS decision, release)."""
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        assert (await client.get("/bills-of-entry")).status_code == 401
        filer = headers("filer", "f-filer")
        assert (await client.get("/bills-of-entry", headers=filer)).status_code == 403
        query = {k: cleared[k] for k in ("be_no", "iec", "port_code", "be_date")}
        milestones = ("first_seen_at", "registered_at", "rms_decided_at", "released_at")
        # be-intake folds each owner's topic on its own: the OOC may land before the RMS
        # decision, so the milestones fill in eventually, not in the order they happened.
        async with asyncio.timeout(30):
            while True:
                found = (await client.get("/bills-of-entry", params=query, headers=OFFICER)).json()
                [be] = found["bills_of_entry"]
                if all(be[name] for name in milestones):
                    break
                await asyncio.sleep(0.2)
        assert be["status"] in RELEASED
        assert be["status_url"] == f"/bills-of-entry/{key_of(cleared)}"
        times = [be[name] for name in ("first_seen_at", "registered_at", "rms_decided_at")]
        assert times == sorted(times)
        assert be["released_at"] >= be["rms_decided_at"]
        stuck_ones = (
            await client.get("/bills-of-entry", params={"stuck": "true"}, headers=OFFICER)
        ).json()["bills_of_entry"]
        assert key_of(stuck) in {
            "{port_code}/{be_no}/{be_date}".format(**b["bill_of_entry_ref"]) for b in stuck_ones
        }
        assert all(b["stuck"] for b in stuck_ones)


async def test_be_intake_gauges_the_bes_not_terminal(
    pipeline: Pipeline, stuck: dict[str, Any]
) -> None:
    """The stuck BE (filed, never registered) is not terminal: the age of the oldest such BE
    is exposed (refreshed every 15 s) for the alert BillsOfEntryNotTerminal."""
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        async with asyncio.timeout(60):
            while True:
                metrics = (await client.get("/metrics")).text
                ages = [
                    float(line.rsplit(" ", 1)[1])
                    for line in metrics.splitlines()
                    if line.startswith("clearance_oldest_not_terminal_age_seconds{")
                ]
                if ages and ages[0] > 0:
                    break
                await asyncio.sleep(1)
        assert "clearance_bills_of_entry_not_terminal{" in metrics


def test_the_console_api_refuses_callers_without_a_role(console: str) -> None:
    assert httpx.get(f"{console}/api/flow", timeout=10).status_code == 401
    filer = headers("filer", "f-filer")
    assert httpx.get(f"{console}/api/flow", headers=filer, timeout=10).status_code == 403
    replay = {"topic": "x.dlq", "partition": 0, "offset": 0}
    response = httpx.post(
        f"{console}/api/dead-letters/replay", json=replay, headers=OFFICER, timeout=10
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "service", ["be-intake", "bis-verifier", "rms-router", "warehouse-seal", "ooc-issuer"]
)
def test_docs_render_from_the_service_itself(
    service: str, service_processes: dict[str, ServiceProcess], browser: webdriver.Chrome
) -> None:
    """Swagger UI shows the service's operations with every asset served by the service
    (nothing from a CDN, which this machine cannot reach)."""
    url = service_processes[service].url
    page = Page(browser, f"docs-{service}")
    page.open(f"{url}/docs")
    page.wait_text(".swagger-ui .info .title", service)
    page.wait(lambda: page.all(".opblock"), what="the operations")
    operations = " ".join(op.text for op in page.all(".opblock-summary-path"))
    assert "/healthz" in operations
    foreign = [name for name in page.resources() if not name.startswith(url)]
    assert foreign == []
    page.screenshot("swagger")
