"""Who may do what, proven against the running platform (issue 14).

- HTTP: a denial matrix generated from every service's routes (its OpenAPI, where each
  route names the roles that may call it: `x-required-roles`), with real tokens from the
  stack's Keycloak (`pipeline_harness.headers`): no token -> 401, each wrong role -> 403;
  the stand-in headers of old (`X-Clearance-Subject/Roles/Scope`) grant nothing; a filer
  asking for another filer's BE -> 404, exactly as for a BE that does not exist; an
  officer of another location -> 403; a 300 MB body refused before it is read.
- Kafka: the broker refuses what the AsyncAPI document does not allow (ACLs derived from
  it): the upstream writing a clearance.* topic, a service writing another's topic, a
  custodian reading what is not its gatepass topic or using another group; a forged OOC
  never reaches the status view.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    TopicAuthorizationFailedError,
)
from clearance_contracts import E_GATEPASS_ISSUED, example, topic_for
from clearance_runtime.access import ROLES
from clearance_runtime.envelope import CloudEvent
from pipeline_harness import FILED, GATEPASS, Identity, Pipeline, headers, key_of, new_bill_of_entry

pytestmark = pytest.mark.e2e

#: Public by design: probes, metrics, docs, and ooc-issuer's e-OOC verification keys (JWKS).
OPEN = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    "/.well-known/jwks.json",
    "/e-ooc/verification",  # anyone holding an e-OOC checks its signature (OOC-EOOC-1)
}
SAMPLE_PATH_VALUES = {
    "port_code": "INNSA1",
    "be_no": "1234567",
    "be_date": "2025-03-20",
}
OOC_ISSUED = "clearance.out-of-charge.issued.v1"
REGISTERED = "clearance.bill-of-entry.registered.v1"


def _routes(spec: dict[str, Any]) -> list[tuple[str, str, list[str] | None]]:
    """(method, path with sample values, required roles) of every non-open route."""
    routes = []
    for path, operations in spec["paths"].items():
        if path in OPEN:
            continue
        filled = path
        for name, value in SAMPLE_PATH_VALUES.items():
            filled = filled.replace("{" + name + "}", value)
        while "{" in filled:
            start = filled.index("{")
            filled = filled[:start] + "sample" + filled[filled.index("}") + 1 :]
        for method, operation in operations.items():
            routes.append((method.upper(), filled, operation.get("x-required-roles")))
    return routes


async def test_the_denial_matrix_of_every_route_of_every_service(pipeline: Pipeline) -> None:
    """Generated from the routes: no token 401, a token of each wrong role 403."""
    checked = 0
    for name, service in pipeline.services.items():
        async with httpx.AsyncClient(base_url=service.url, timeout=20) as client:
            spec = (await client.get("/openapi.json")).json()
            for method, path, roles in _routes(spec):
                assert roles, f"{name} {method} {path} declares no role (use access.requires)"
                answer = await client.request(method, path, json={})
                assert answer.status_code == 401, (name, method, path, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                for role in sorted(set(ROLES) - set(roles)):
                    answer = await client.request(method, path, json={}, headers=headers(role))
                    assert answer.status_code == 403, (name, method, path, role, answer.text)
                checked += 1
    assert checked >= 5  # every service has its administration routes at least


async def test_the_stand_in_identity_headers_grant_nothing(pipeline: Pipeline) -> None:
    """Before tokens, X-Clearance-Subject/Roles/Scope named the caller; now a request
    carrying only them is unauthenticated everywhere (401), whatever they claim."""
    stand_in = {
        "X-Clearance-Subject": "admin-1",
        "X-Clearance-Roles": "administrator,officer,filer,custodian,upstream",
        "X-Clearance-Scope": "location=INNSA1;groups=5C;cb_code=AABCJ2231PCH001",
    }
    for name, service in pipeline.services.items():
        async with httpx.AsyncClient(base_url=service.url, timeout=20) as client:
            clock = await client.get("/admin/clock", headers=stand_in)
            moved = await client.post("/admin/clock", json={"advance_seconds": 1}, headers=stand_in)
            assert clock.status_code == moved.status_code == 401, (name, clock.text)
            # The same request with a real administrator's token is answered.
            assert (await client.get("/admin/clock", headers=headers("administrator"))).is_success
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        status = await client.get("/bills-of-entry/INNSA1/1234567/2025-03-20", headers=stand_in)
        filed = await client.post("/bills-of-entry", json=new_bill_of_entry("H"), headers=stand_in)
    assert status.status_code == filed.status_code == 401


async def test_a_forged_or_foreign_token_is_401(pipeline: Pipeline) -> None:
    token = headers("administrator").token()
    header, body, signature = token.split(".")
    forged = f"{header}.{body}.{signature[::-1]}"
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        answer = await client.get(
            "/bills-of-entry/INNSA1/1234567/2025-03-20",
            headers={"Authorization": f"Bearer {forged}"},
        )
    assert answer.status_code == 401
    assert "token" in answer.json()["detail"]


async def test_a_filer_sees_its_own_be_and_never_learns_of_another_filers(
    pipeline: Pipeline,
) -> None:
    be = new_bill_of_entry("H")
    await pipeline.file(be)
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
    own = headers("filer", "broker-own", cb_code=be["customs_broker_code"], iec="")
    importer = headers("filer", "importer-own", cb_code="", iec=be["iec"])
    other = headers("filer", "broker-other", cb_code="ZZZCB9999Z", iec="ZZZZZ9999Z")
    assert (await _status(pipeline, be, own)).status_code == 200
    assert (await _status(pipeline, be, importer)).status_code == 200
    theirs = await _status(pipeline, be, other)
    unknown = await _status(pipeline, {**be, "be_no": "0000001"}, other)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["detail"] == unknown.json()["detail"]


async def test_an_officer_of_another_location_is_403(pipeline: Pipeline) -> None:
    be = new_bill_of_entry("H")  # port INNSA1
    await pipeline.file(be)
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
    here = await _status(pipeline, be, headers("officer", "officer-innsa1", location="INNSA1"))
    elsewhere = await _status(pipeline, be, headers("officer", "officer-inmaa1", location="INMAA1"))
    assert here.status_code == 200
    assert elsewhere.status_code == 403
    assert "location=INNSA1" in elsewhere.json()["detail"]


async def test_an_officers_search_and_verdicts_stay_within_its_location(
    pipeline: Pipeline,
) -> None:
    """The staff search finds no BE of another location (asked for that port: 403), and
    bis-verifier answers another location's verdict with 403."""
    be = new_bill_of_entry("H")  # port INNSA1
    await pipeline.file(be)
    await pipeline.listener.wait_for(GATEPASS, key_of(be))
    mumbai = headers("officer", "officer-innsa1", location="INNSA1")
    chennai = headers("officer", "officer-inmaa1", location="INMAA1")
    query = {"be_no": be["be_no"], "be_date": be["be_date"]}
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        found = await client.get("/bills-of-entry", params=query, headers=mumbai)
        unseen = await client.get("/bills-of-entry", params=query, headers=chennai)
        asked = await client.get(
            "/bills-of-entry", params={**query, "port_code": "INNSA1"}, headers=chennai
        )
    assert len(found.json()["bills_of_entry"]) == 1
    assert unseen.json()["bills_of_entry"] == []
    assert asked.status_code == 403
    verdict = f"/verifications/{key_of(be)}"
    async with httpx.AsyncClient(base_url=pipeline.services["bis-verifier"].url) as client:
        assert (await client.get(verdict, headers=mumbai)).status_code == 200
        assert (await client.get(verdict, headers=chennai)).status_code == 403


async def test_a_filer_files_only_bes_of_its_own_cb_code_or_iec(pipeline: Pipeline) -> None:
    be = new_bill_of_entry("H")
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        refused = await client.post(
            "/bills-of-entry",
            json=be,
            headers=headers("filer", "broker-other", cb_code="ZZZCB9999Z", iec="ZZZZZ9999Z"),
        )
        await pipeline.facts_before(be)
        accepted = await client.post("/bills-of-entry", json=be, headers=headers("filer"))
    assert refused.status_code == 403
    assert accepted.status_code == 202


def test_a_300_mb_body_is_refused_before_it_is_read(pipeline: Pipeline) -> None:
    """Only the headers and 64 KiB are sent: the 413 comes back at once, announced by the
    declared length, without the server waiting for (or reading) the rest."""
    host, port = pipeline.intake_url.removeprefix("http://").split(":")
    token = headers("upstream").token()
    head = (
        "POST /bills-of-entry HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {300 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + b" " * 65536)
        received = b""
        while chunk := sock.recv(65536):  # the server closes after its answer
            received += chunk
        answer = received.decode(errors="replace")
    status_line, _, rest = answer.partition("\r\n")
    assert " 413 " in status_line
    assert "application/problem+json" in rest
    assert "exceeds the limit" in rest


def _producer(pipeline: Pipeline, party: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=pipeline.infra.kafka_bootstrap,
        acks="all",
        request_timeout_ms=10000,
        **pipeline.infra.kafka(party).client_options(),
    )


async def _send_refused(pipeline: Pipeline, party: str, topic: str, event: CloudEvent) -> None:
    producer = _producer(pipeline, party)
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(
                topic,
                value=event.kafka_value(),
                key=event.kafka_key(),
                headers=event.kafka_headers(),
            )
    finally:
        await producer.stop()


async def test_the_upstream_cannot_write_a_clearance_topic(pipeline: Pipeline) -> None:
    data = example(REGISTERED)
    event = CloudEvent.new(REGISTERED, "/forged", "INNSA1/7777777/2025-03-20", data)
    await _send_refused(pipeline, "icegate-upstream", REGISTERED, event)


async def test_a_service_cannot_write_another_services_topic(pipeline: Pipeline) -> None:
    data = example(OOC_ISSUED)
    key = "{port_code}/{be_no}/{be_date}".format(**data["bill_of_entry_ref"])
    event = CloudEvent.new(OOC_ISSUED, "/forged", key, data)
    for party in ("rms-router", "bis-verifier", "be-intake"):
        await _send_refused(pipeline, party, OOC_ISSUED, event)


async def test_a_custodian_reads_only_its_gatepasses_and_only_with_its_group(
    pipeline: Pipeline,
) -> None:
    party = "custodian-INNSA1CFS1"  # GATEPASS is its topic
    security = pipeline.infra.kafka(party).client_options()
    bootstrap = pipeline.infra.kafka_bootstrap
    for topic in (REGISTERED, topic_for(E_GATEPASS_ISSUED, custodian_code="INNSA1CFS2")):
        foreign = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=party, **security)
        with pytest.raises(TopicAuthorizationFailedError):
            await _start_and_read(foreign)
    other_group = AIOKafkaConsumer(
        GATEPASS,
        bootstrap_servers=bootstrap,
        group_id=f"someone-{uuid.uuid4().hex[:6]}",
        **security,
    )
    with pytest.raises(GroupAuthorizationFailedError):
        await _start_and_read(other_group)
    own = AIOKafkaConsumer(
        GATEPASS,
        bootstrap_servers=bootstrap,
        group_id=party,
        auto_offset_reset="earliest",
        **security,
    )
    await own.start()
    try:
        record = await asyncio.wait_for(own.getone(), timeout=30)
        assert record.topic == GATEPASS
    finally:
        await own.stop()


async def _status(pipeline: Pipeline, be: dict[str, Any], who: Identity) -> httpx.Response:
    """be-intake's status view of `be`, asked by `who`."""
    async with httpx.AsyncClient(base_url=pipeline.intake_url, timeout=10) as client:
        return await client.get(f"/bills-of-entry/{key_of(be)}", headers=who)


async def _start_and_read(consumer: AIOKafkaConsumer) -> Any:
    """Start the consumer and read one record; stopped whatever happens."""
    try:
        await consumer.start()
        return await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()


async def test_a_forged_ooc_never_reaches_the_status_view(pipeline: Pipeline) -> None:
    """A BE waiting for its duty stays without Out of Charge: nobody but ooc-issuer may
    write the OOC topic, so no other party can forge one."""
    be = new_bill_of_entry("H")
    await pipeline.publish(FILED, be, "/icegate/test")  # no payment: no OOC can follow
    async with asyncio.timeout(60):
        while (await pipeline.status(be)).status_code != 200:
            await asyncio.sleep(0.2)
    forged = example(OOC_ISSUED)
    forged["bill_of_entry_ref"] = {
        **forged["bill_of_entry_ref"],
        **{k: be[k] for k in ("port_code", "be_no", "be_date")},
    }
    event = CloudEvent.new(OOC_ISSUED, "/forged", key_of(be), forged)
    for party in ("icegate-upstream", "custodians", "custodian-INNSA1CFS1", "rms-router"):
        await _send_refused(pipeline, party, OOC_ISSUED, event)
    await asyncio.sleep(2)
    after = (await pipeline.status(be)).json()
    assert after["out_of_charge_no"] is None
    assert after["status"] not in ("released", "gatepass_issued", "goods_exited")
