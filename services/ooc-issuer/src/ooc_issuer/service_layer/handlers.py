"""What ooc-issuer does when facts about BEs arrive: apply them to the BEs' cases, then,
once per batch, settle every case the batch touched (hold, release, order re-export),
number and sign the releases, and let the cases' events go to the outbox; the e-Gatepass
goes to its custodian's own topic, mailbox and (if it registered one) callback."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clearance_contracts import BILL_OF_ENTRY_REGISTERED, E_GATEPASS_ISSUED, topic_for
from clearance_contracts.custodians import custodian, default_custodian
from clearance_domain import BillOfEntryRef
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.unit_of_work import Collected

from ooc_issuer.domain.case import (
    CaseEvent,
    ClearanceCase,
    OutOfChargeIssued,
    Release,
)
from ooc_issuer.domain.facts import Registered
from ooc_issuer.service_layer.messages import FACT_EVENTS, fact_of, gatepass_data, rendered
from ooc_issuer.service_layer.unit_of_work import (
    DocumentSigner,
    Identity,
    Notification,
    OocUnitOfWork,
)

_FACTS = "ooc-issuer.facts"
GATEPASS_DELIVERY = "e-gatepass"  # the delivery kind pushed to custodians' callbacks


def custodian_of(be: Registered) -> str | None:
    """OOC-GP-1: the custodian named on the BE, else the custom house's default one
    (custodians.yaml, SAMPLE DATA); None when neither is registered."""
    if be.custodian_code and custodian(be.custodian_code) is not None:
        return be.custodian_code
    fallback = default_custodian(be.ref.port_code)
    return fallback.code if fallback else None


def destination(custodian_code: str) -> str:
    """The delivery destination of a custodian's callback (deliveries to one go in order)."""
    return f"custodian:{custodian_code}"


def document_claims(
    case: ClearanceCase, release: Release, ooc_no: str, gatepass_no: str, at: datetime
) -> dict[str, Any]:
    """OOC-EOOC-1: what the e-OOC's QR code carries, signed (like the signed QR of a GST
    e-invoice): BE number and date, port, IEC, duty, packages, OOC number and time, version."""
    be = case.facts.registered
    facts = case.release_facts()
    assert be is not None
    assert facts is not None
    duty = facts.duty_due()
    return {
        "iss": "ooc-issuer",
        "doc": "e-OOC",
        "port_code": case.port_code,
        "be_no": case.be_no,
        "be_date": case.be_date.isoformat(),
        "version": case.version,
        "iec": be.iec,
        "duty": float(duty if duty is not None else be.self_assessed_duty),
        "packages": be.package_count,
        "ooc_no": ooc_no,
        "ooc_at": at.isoformat(),
        "gatepass_no": gatepass_no,
        "mode": release.mode.value,
    }


async def issue_releases(
    uow: OocUnitOfWork,
    signer: DocumentSigner,
    releases: Mapping[Identity, tuple[ClearanceCase, Release]],
) -> None:
    """Number, sign and issue each release; file each e-Gatepass for its custodian and
    push it where the custodian registered a callback (OOC-AUTO-1, OOC-EOOC-1, OOC-GP-1)."""
    if not releases:
        return
    identities = list(releases)
    numbers = await uow.cases.numbers([identity[0] for identity in identities])
    now = uow.clock.now()
    issued: list[OutOfChargeIssued] = []
    for identity, (ooc_no, gatepass_no) in zip(identities, numbers, strict=True):
        case, release = releases[identity]
        be = case.facts.registered
        assert be is not None
        token = signer.sign(document_claims(case, release, ooc_no, gatepass_no, now))
        case.issue(
            release,
            out_of_charge_no=ooc_no,
            gatepass_no=gatepass_no,
            custodian_code=custodian_of(be),
            document_token=token,
            key_id=signer.key_id,
            at=now,
        )
        issued += [event for event in case.events if isinstance(event, OutOfChargeIssued)]
        DECISIONS.labels("ooc-issuer", "ooc", release.mode.value).inc()
    codes = sorted({e.issued.custodian_code for e in issued if e.issued.custodian_code})
    with_callback = await uow.mailboxes.with_callback(codes)
    for event in issued:
        code = event.issued.custodian_code
        if code is None:
            continue
        payload = gatepass_data(event)
        uow.mailboxes.file(Notification(code, event.issued.gatepass_no, event.ref, payload))
        if code in with_callback:
            uow.deliver(
                destination(code), GATEPASS_DELIVERY, payload, delivery_id=event.issued.gatepass_no
            )


def handlers(signer: DocumentSigner) -> dict[str, Handler]:
    """The handler table: every fact the release depends on goes to one batch step."""

    async def on_fact(event: CloudEvent, uow: OocUnitOfWork) -> None:
        """Keep the fact; the batch's cases are settled together (`settle_touched`)."""
        if event.type == BILL_OF_ENTRY_REGISTERED:
            ref = BillOfEntryRef.from_data(event.data["bill_of_entry_ref"])
            uow.copies.keep(ref, event.data["bill_of_entry"])
        uow.collect(_FACTS, fact_of(event.type, event.data), settle_touched)

    async def settle_touched(uow: OocUnitOfWork, items: Collected) -> None:
        """Apply the batch's facts to their cases (read locked, in one statement), settle
        each changed case, issue what the rules release, save them."""
        cases = await uow.cases.for_update(list(dict.fromkeys(f.ref.identity for f, _ in items)))
        changed: dict[Identity, dict[str, str]] = {}
        for fact, carrier in items:
            identity = fact.ref.identity
            if cases[identity].apply(fact):
                changed[identity] = carrier
            else:
                DECISIONS.labels("ooc-issuer", "fact", "unchanged").inc()
        now = uow.clock.now()
        releases: dict[Identity, tuple[ClearanceCase, Release]] = {}
        for identity in changed:
            release = cases[identity].settle(now)
            if release is not None:
                releases[identity] = (cases[identity], release)
        await issue_releases(uow, signer, releases)
        for identity, carrier in changed.items():
            uow.cases.save(cases[identity])
            uow.track(cases[identity], carrier)

    return dict.fromkeys(FACT_EVENTS, on_fact)


def render_events(uow: Any, event: CaseEvent) -> None:
    """The unit of work's renderer: a case event as the contract events it becomes; the
    e-Gatepass on its custodian's own topic (OOC-GP-1)."""
    subject = event.ref.key
    for event_type, data in rendered(event):
        if event_type == E_GATEPASS_ISSUED:
            topic = topic_for(event_type, custodian_code=data["custodian_code"])
            uow.publish(event_type, subject, data, topic=topic)
            DECISIONS.labels("ooc-issuer", "gatepass", "issued").inc()
        else:
            uow.publish(event_type, subject, data)
        if event_type != E_GATEPASS_ISSUED:
            DECISIONS.labels("ooc-issuer", "event", event_type.split(".")[2]).inc()
