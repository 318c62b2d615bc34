"""Helpers of the end-to-end tests: realistic filings, a topic listener, the pipeline."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import string
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from be_intake.domain.filing import PERMANENT_IECS
from clearance_contracts import E_GATEPASS_ISSUED, event_key, example, topic_for
from clearance_domain import BillOfEntryRef
from clearance_local.identity import IdentityProvider
from clearance_local.kafka import partitions_of
from clearance_local.services import ServiceProcess
from clearance_local.stack import Endpoints
from clearance_runtime.clock import CUSTOMS_TIMEZONE
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.kafka import KafkaSecurity, client_options
from rms_router.domain.decision import interdiction_draw

FILED = "icegate.bill-of-entry.filed.v1"
# The e-Gatepass goes to the custodian's own topic (OOC-GP-1); a BE naming none goes to its
# custom house's default custodian (INNSA1CFS1, SAMPLE DATA).
GATEPASS = topic_for(E_GATEPASS_ISSUED, custodian_code="INNSA1CFS1")
HELD = "clearance.out-of-charge.held.v1"
REGISTERED = "clearance.bill-of-entry.registered.v1"
REJECTED = "clearance.bill-of-entry.rejected.v1"
INVALIDATED = "clearance.bill-of-entry.invalidated.v1"
PAYMENT_RECORDED = "clearance.duty-payment.recorded.v1"
NOTICE = "clearance.bill-of-entry-notice.published.v1"
AEO_CERTIFICATE = "aeo-directory.aeo-certificate.recorded.v1"
ARRIVAL = "icegate.igm.entered-inward.v1"
PAYMENT = "icegate.duty-payment.received.v1"
DEFERMENT = "icegate.deferred-payment.authenticated.v1"
AMENDMENT = "icegate.bill-of-entry.amendment-filed.v1"
SEAL_SOLD = "vendor.rfid-seal.sold.v1"
SEAL_RECONCILED = "clearance.seal-trip.reconciled.v1"
SEAL_ALERT = "clearance.seal-trip.alert-raised.v1"
DUTY_DEMAND = "clearance.duty-demand.raised.v1"
WATCHED = (
    GATEPASS,
    HELD,
    f"{FILED}.dlq",
    REGISTERED,
    REJECTED,
    INVALIDATED,
    PAYMENT_RECORDED,
    SEAL_RECONCILED,
    SEAL_ALERT,
    DUTY_DEMAND,
)
# ICES 1.5 messages (CHCAI04, CHCAI07) to the filer of a flat file (issue 9).
ICES_MESSAGE = "clearance.ices-message.issued.v1"
NOTICES = (NOTICE, ICES_MESSAGE)  # keyed by the filer, not the BE
#: Where each role is, unless a test says otherwise: the example BE's customs broker and
#: port, and the port's default custodian (SAMPLE DATA).
DEFAULT_SCOPE: dict[str, dict[str, str]] = {
    "filer": {"cb_code": str(example(FILED)["customs_broker_code"])},
    "officer": {"location": "INNSA1"},
    "custodian": {"custodian": "INNSA1CFS1"},
}
_identities: list[IdentityProvider] = []


def use_identities(provider: IdentityProvider) -> None:
    """The session's identity provider (tests/e2e/conftest.py sets it once)."""
    _identities[:] = [provider]


class Identity(Mapping[str, str]):
    """The request headers of one caller: `Authorization: Bearer <access token>` of a user
    of the test stack's Keycloak holding `role` and `scope` (token claims, the services'
    scope vocabulary: location, groups, cb_code, iec, custodian, functions), whose username
    is `subject`. Signed by Keycloak and verified against its JWKS like any caller's; the
    token is fetched when a request first reads the headers, and cached until it nearly
    expires. Usable wherever headers are: `client.get(url, headers=identity)`."""

    def __init__(self, role: str, subject: str | None = None, **scope: str) -> None:
        """`role`: one role, or several comma-separated (one user holding them all)."""
        self.role = role
        self.subject = subject
        defaults = [DEFAULT_SCOPE.get(name.strip(), {}) for name in role.split(",")]
        self.scope = {k: v for default in defaults for k, v in default.items()} | scope

    def token(self) -> str:
        if not _identities:
            raise RuntimeError("no identity provider: the e2e conftest sets it per session")
        return _identities[0].token(self.role, user=self.subject, **self.scope)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def __getitem__(self, name: str) -> str:
        return self._headers()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(("Authorization",))

    def __len__(self) -> int:
        return 1

    def but(self, subject: str | None = None, **scope: str) -> Identity:
        """The same role with another subject or scope."""
        return Identity(self.role, subject or self.subject, **{**self.scope, **scope})


def headers(role: str, subject: str | None = None, **scope: str) -> Identity:
    """THE test identity: the headers of a caller holding `role`, named `subject`, with
    `scope` (defaults: DEFAULT_SCOPE), carrying a real Keycloak token."""
    return Identity(role, subject, **scope)


ADMINISTRATOR = headers("administrator", "test-administrator")


def new_iec() -> str:
    """A fresh PAN-shaped IEC (INTAKE-IEC-1): each BE's importer has its own directory entry."""
    letters = "".join(random.choices(string.ascii_uppercase, k=3))
    return f"{letters}C{random.choice(string.ascii_uppercase)}{random.randrange(10**4):04d}Z"


def new_bill_of_entry(be_type: str = "H", **overrides: Any) -> dict[str, Any]:
    """A realistic filing with a fresh BE number, importer and job (AEO T2, duty paid, no
    first check), lodged now, a prior entry for a vessel arriving in five days (on time
    under INTAKE-LATE-3 whatever the hour). `Pipeline.file` publishes with it what makes it
    clear: the importer's AEO certificate, the arrival, the payment.

    Its goods are parts of CCTV cameras (8529 90 90), which no BIS order covers: the
    example's cameras (8525 80 90) fall under the CRO (BIS-CRS-4), and no registration of
    the 2021 register is valid today (tests/e2e/test_bis_verification.py files them with a
    real registration on a date it was valid)."""
    be = example(FILED)
    now = datetime.now(CUSTOMS_TIMEZONE)
    be_no = f"{random.randrange(10**6, 10**7):07d}"
    be.update(
        be_no=be_no,
        be_date=now.date().isoformat(),
        user_job_no=str(int(be_no)),
        user_job_date=now.date().isoformat(),
        filed_at=now.isoformat(),
        be_type=be_type,
        iec=new_iec(),
        aeo_tier="T2",
        first_check=False,
        prior_be=True,
        arrival_date=None,
        igm={
            "igm_no": str(random.randrange(10**6, 10**7)),
            "igm_date": now.date().isoformat(),
            "inward_date": (now.date() + timedelta(days=5)).isoformat(),
            "gateway_port_code": None,
        },
        supporting_documents=[
            doc
            for doc in be.get("supporting_documents", [])
            if doc["document_type"] not in {"bis_registration", "bis_cml_licence"}
        ],
    )
    be["house_bills"] = [{**be["house_bills"][0], "master_bill_no": f"MAEU{be_no}"}]
    for invoice in be["invoices"]:
        for item in invoice["items"]:
            item["cth"] = "85299090"
            item["description"] = f"PARTS OF CCTV CAMERAS: HOUSING AND LENS OF {item['model']}"
    be["duty"] = {**be["duty"], "paid": True}
    if be_type == "W":
        be["warehouse_code"] = be.get("warehouse_code") or "MAA4W001"
        for container in be["containers"]:
            container["seal_no"] = new_seal_no()  # a one-time-lock is used once (SEAL-FMT-1)
    return {**be, **overrides}


def new_seal_no(brand: str = "ZSEL") -> str:
    """A fresh RFID seal number `ABCD XXXX XXXX` of a listed vendor (SAMPLE DATA list)."""
    digits = f"{random.randrange(10**8):08d}"
    return f"{brand} {digits[:4]} {digits[4:]}"


def tid_of(seal_no: str) -> str:
    """The TID the vendor recorded for a test seal (hexadecimal, 96 bits)."""
    return "E2801170" + hashlib.sha256(seal_no.encode()).hexdigest()[:16].upper()


def seal_sale(seal_no: str, warehouse_code: str, **changes: Any) -> dict[str, Any]:
    """A vendor's sale of a seal to a warehouse's licensee (SEAL-LINK-1)."""
    return {
        "seal_no": seal_no,
        "tid": tid_of(seal_no),
        "vendor_brand": seal_no[:4],
        "warehouse_code": warehouse_code,
        "sold_at": datetime.now(UTC).isoformat(),
        **changes,
    }


def key_of(be: dict[str, Any]) -> str:
    return f"{be['port_code']}/{be['be_no']}/{be['be_date']}"


class Listener:
    """Collects every record that appears on the watched topics from now on."""

    def __init__(
        self,
        bootstrap: str,
        topics: tuple[str, ...] = (*WATCHED, *NOTICES),
        security: KafkaSecurity | None = None,
    ) -> None:
        """`security`: the credentials to read with (default: the test process's, the
        session stack's Kafka administrator from CLEARANCE_KAFKA_*)."""
        self.bootstrap = bootstrap
        self.topics = topics
        self.security = security
        self.records: dict[str, list[Any]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        # The test process is the Kafka administrator (CLEARANCE_KAFKA_* of the `infra` fixture).
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, **client_options(security)
        )

    async def start(self) -> None:
        await self._consumer.start()
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in await partitions_of(self.bootstrap, topic, self.security)
        ]
        self._consumer.assign(partitions)
        for tp, offset in (await self._consumer.end_offsets(partitions)).items():
            self._consumer.seek(tp, offset)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=200)
            except KafkaError:  # a slow broker under load: keep listening
                continue
            for tp, batch in batches.items():
                self.records[tp.topic].extend(batch)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # On a loaded machine the fetcher's last request may time out as it is cancelled.
        with contextlib.suppress(KafkaError, asyncio.CancelledError):
            await self._consumer.stop()

    def for_key(self, topic: str, key: str) -> list[Any]:
        return [r for r in self.records[topic] if r.key and r.key.decode() == key]

    async def wait_for(
        self, topic: str, key: str, count: int = 1, timeout: float = 60
    ) -> list[Any]:
        async with asyncio.timeout(timeout):
            while len(self.for_key(topic, key)) < count:
                await asyncio.sleep(0.1)
        return self.for_key(topic, key)


class Pipeline:
    def __init__(self, services: dict[str, ServiceProcess], listener: Listener, infra: Endpoints):
        self.services = services
        self.listener = listener
        self.infra = infra
        self.producer = AIOKafkaProducer(
            bootstrap_servers=infra.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            **client_options(infra.kafka_admin),
        )

    @property
    def intake_url(self) -> str:
        return self.services["be-intake"].url

    async def publish(self, event_type: str, data: dict[str, Any], source: str) -> CloudEvent:
        """Publish an event as the outside party that owns its topic would."""
        event = CloudEvent.new(event_type, source, event_key(event_type, data), data)
        await self.producer.send_and_wait(
            event_type,
            value=event.kafka_value(),
            key=event.kafka_key(),
            headers=event.kafka_headers(),
        )
        return event

    async def get(self, path: str, role: str = "officer", **params: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.intake_url, timeout=10) as client:
            return await client.get(path, params=params, headers=headers(role))

    async def not_interdicted(self, be: dict[str, Any]) -> dict[str, Any]:
        """The filing under a BE number that random interdiction (RMS-LANES-1) does not pick
        for its versions 1 and 2 under rms-router's rule set in force, whatever its lane: for
        tests of an importer without a T2/T3 certificate that mean no risk selection. The
        draw is rms-router's, a pure function of BE key, version and rule-set version."""
        async with httpx.AsyncClient(base_url=self.services["rms-router"].url) as client:
            index = (await client.get("/admin/policies", headers=ADMINISTRATOR)).json()
            versions = (
                await client.get("/admin/policies/rms-rule-set", headers=ADMINISTRATOR)
            ).json()
        [number] = [p["in_force_now"] for p in index if p["policy_id"] == "rms-rule-set"]
        [body] = [v["body"] for v in versions if v["version"] == number]
        rate = max(lane["rate"] for lane in body["random_interdiction"]["lanes"])
        while any(
            interdiction_draw(BillOfEntryRef.from_data({**be, "version": v}), number) < rate
            for v in (1, 2)
        ):
            be_no = f"{random.randrange(10**6, 10**7):07d}"
            be.update(be_no=be_no, user_job_no=str(int(be_no)))
        return be

    async def until_known(self, path: str, timeout: float = 30, **params: Any) -> httpx.Response:
        """Poll a be-intake read until it answers 200 with something (facts consumed)."""
        async with asyncio.timeout(timeout):
            while True:
                response = await self.get(path, **params)
                body = response.json() if response.status_code == 200 else None
                if body and (body.get("certificates") is None or body["certificates"]):
                    return response
                await asyncio.sleep(0.1)

    async def facts_before(
        self, be: dict[str, Any], *, certify: bool = True, arrive: bool = True
    ) -> None:
        """What precedes a filing: the importer's AEO certificate (its claimed tier; none for
        a permanent IEC of INTAKE-IEC-2/-4, the shared code of an exempt category) and the
        carrier's arrival, each waited for until be-intake holds it."""
        iec = be["iec"]
        own_iec = len(iec) == 10 and iec.isalnum() and iec not in PERMANENT_IECS
        if certify and be.get("aeo_tier") and own_iec:
            await self.certify(be["iec"], be["aeo_tier"])
        igm = be.get("igm")
        if arrive and igm and igm.get("inward_date"):
            await self.arrive(be, igm["inward_date"])

    async def certify(self, iec: str, tier: str, **changes: Any) -> dict[str, Any]:
        today = datetime.now(CUSTOMS_TIMEZONE).date()
        certificate = {
            "certificate_no": f"IN{iec}{tier}",
            "iec": iec,
            "tier": tier,
            "entity_name": "SAMPLE IMPORTER (TEST DATA)",
            "valid_from": (today - timedelta(days=400)).isoformat(),
            "valid_to": (today + timedelta(days=800)).isoformat(),
            "suspended_from": None,
            "revoked_from": None,
            "recorded_at": datetime.now(CUSTOMS_TIMEZONE).isoformat(),
            **changes,
        }
        await self.publish(AEO_CERTIFICATE, certificate, "/aeo-directory/test")
        await self.until_known("/aeo-certificates", iec=iec)
        return certificate

    async def arrive(self, be: dict[str, Any], inward_date: str, *, wait: bool = True) -> None:
        igm = be["igm"]
        arrival = {
            "port_code": be["port_code"],
            "igm_no": igm["igm_no"],
            "igm_date": igm["igm_date"],
            "inward_date": inward_date,
            "mode": {"S": "sea", "A": "air", "L": "land"}[be["mode_of_transport"]],
            "lines": [{"master_bill_no": h["master_bill_no"]} for h in be.get("house_bills", [])],
            "recorded_at": datetime.now(CUSTOMS_TIMEZONE).isoformat(),
        }
        await self.publish(ARRIVAL, arrival, "/icegate/test-upstream")
        if wait:
            path = f"/arrivals/{be['port_code']}/{igm['igm_no']}/{igm['igm_date']}"
            await self.until_known(path)

    async def pay(self, be: dict[str, Any], amount: float | None = None) -> None:
        """The e-payment gateway reports the duty paid (INTAKE-DUTY-1)."""
        payment = {
            "port_code": be["port_code"],
            "be_no": be["be_no"],
            "be_date": be["be_date"],
            "challan_no": f"{random.randrange(10**9, 10**10)}",
            "transaction_no": f"ECL{uuid.uuid4().hex[:16].upper()}",
            "amount": amount if amount is not None else be["duty"]["total_duty"],
            "mode": "electronic_cash_ledger",
            "paid_at": datetime.now(CUSTOMS_TIMEZONE).isoformat(),
        }
        await self.publish(PAYMENT, payment, "/icegate-e-payment/test-bank")

    async def defer(self, be: dict[str, Any]) -> None:
        """The AEO nodal person authenticates the deferred payment by OTP (INTAKE-DUTY-2)."""
        otp = {
            "port_code": be["port_code"],
            "be_no": be["be_no"],
            "be_date": be["be_date"],
            "authentication_id": f"OTP-{random.randrange(10**12, 10**13)}",
            "iec": be["iec"],
            "authenticated_at": datetime.now(CUSTOMS_TIMEZONE).isoformat(),
        }
        await self.publish(DEFERMENT, otp, "/icegate-e-payment/test-otp")

    async def sell_seals(self, be: dict[str, Any]) -> None:
        """The vendors' sales of a warehousing BE's seals, linked to its warehouse
        (SEAL-LINK-1): warehouse-seal matches the BE against them (OOC-WH-1)."""
        for container in be.get("containers") or ():
            sale = seal_sale(container["seal_no"], be["warehouse_code"])
            await self.publish(SEAL_SOLD, sale, "/rfid-vendors/test-vendor")

    async def file(
        self,
        be: dict[str, Any],
        event: CloudEvent | None = None,
        *,
        facts: bool = True,
        certify: bool = True,
        arrive: bool = True,
        pay: bool = True,
    ) -> CloudEvent:
        """Publish a filing as an ICEGATE-style upstream system would, with (`facts`) what
        the other parties say about it: certificate and arrival before, payment after."""
        if facts:
            await self.facts_before(be, certify=certify, arrive=arrive)
        if be.get("be_type") == "W" and be.get("warehouse_code"):
            await self.sell_seals(be)
        event = event or CloudEvent.new(FILED, "/icegate/test-upstream", key_of(be), be)
        await self.producer.send_and_wait(
            FILED, value=event.kafka_value(), key=event.kafka_key(), headers=event.kafka_headers()
        )
        if facts and pay and be.get("be_type") != "W":
            if be["duty"].get("deferred_payment_otp_authenticated") and not be["duty"]["paid"]:
                await self.defer(be)
            elif be["duty"].get("paid"):
                await self.pay(be)
        return event

    async def status(self, be: dict[str, Any], role: str = "filer") -> httpx.Response:
        """be-intake's status view, asked by the BE's filer (its CB code), or by `role`
        (an officer of INNSA1: a BE whose filing was never read has no known filer)."""
        return await self.get(f"/bills-of-entry/{key_of(be)}", role=role)

    async def status_when(
        self, be: dict[str, Any], done: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> dict[str, Any]:
        """Poll the status view until `done(body)`."""
        async with asyncio.timeout(timeout):
            while True:
                response = await self.status(be)
                if response.status_code == 200 and done(response.json()):
                    return dict(response.json())
                await asyncio.sleep(0.1)

    async def intake_now(self) -> datetime:
        """be-intake's clock (tests may have moved it: never assume it)."""
        response = await self.get("/admin/clock", role="administrator")
        return datetime.fromisoformat(response.json()["now"])

    async def move_intake_clock(self, seconds: float) -> datetime:
        async with httpx.AsyncClient(base_url=self.intake_url, timeout=10) as client:
            response = await client.post(
                "/admin/clock", json={"advance_seconds": seconds}, headers=headers("administrator")
            )
        return datetime.fromisoformat(response.json()["now"])


@dataclass(frozen=True)
class Disruption:
    """What a disrupted stream of BEs came to: the gatepass numbers and event ids each BE
    got, and how many BEs had their gatepass when the disruption struck."""

    gatepasses: dict[str, set[str]]
    event_ids: dict[str, set[str]]
    out_before: int

    @property
    def twice(self) -> list[str]:
        """The BEs with more than one gatepass, or one under two event ids (a resend keeps
        its id): none, ever."""
        return sorted(
            k for k in self.gatepasses if len(self.gatepasses[k]) > 1 or len(self.event_ids[k]) > 1
        )


async def disrupt_mid_stream(
    pipeline: Pipeline,
    disrupt: Callable[[], None],
    *,
    count: int,
    flowing_after: int,
    timeout: float,
) -> Disruption:
    """File `count` BEs in one burst, run `disrupt` once `flowing_after` gatepasses are out,
    wait for every BE's gatepass and let duplicates surface; the caller checks the outcome.

    A relay killed between send and commit may resend: the same event, same id,
    which custodians drop by its id. Never a second gatepass.
    """
    bills = [new_bill_of_entry("H") for _ in range(count)]
    for be in bills:  # the importers' certificates and the arrivals first, known to be-intake
        await pipeline.facts_before(be)
    for be in bills:  # then the filings (and payments) at once: a stream to disrupt
        await pipeline.file(be, certify=False, arrive=False)
    keys = {key_of(be) for be in bills}

    def out() -> int:
        return sum(1 for k in keys if pipeline.listener.for_key(GATEPASS, k))

    async with asyncio.timeout(timeout):
        while out() < flowing_after:
            await asyncio.sleep(0.05)
    out_before = out()
    await asyncio.to_thread(disrupt)
    for key in keys:
        await pipeline.listener.wait_for(GATEPASS, key, timeout=timeout + 60)
    await asyncio.sleep(3)  # let any duplicate surface
    got = {key: pipeline.listener.for_key(GATEPASS, key) for key in keys}
    return Disruption(
        gatepasses={k: {orjson.loads(r.value)["gatepass_no"] for r in rs} for k, rs in got.items()},
        event_ids={k: {dict(r.headers)["ce_id"] for r in rs} for k, rs in got.items()},
        out_before=out_before,
    )
