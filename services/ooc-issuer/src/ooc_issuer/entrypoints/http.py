"""ooc-issuer over HTTP: the OOC officer's queue and decisions, the e-OOC for the BE's
importer or broker, its verification and public keys, and custodians' callbacks, pull
mailbox, acknowledgements and delivery state. One `requires(role)` per route, except the
public verification and key set."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date
from typing import Annotated, Any

import httpx
from clearance_contracts import (
    CUSTODIAN_CALLBACK,
    E_OOC_VERIFICATION,
    OFFICER_DECISION,
    ContractViolation,
    validate_http,
)
from clearance_contracts.custodians import custodian
from clearance_domain import BillOfEntryRef
from clearance_domain.reasons import reasons_data
from clearance_runtime.access import Principal, requires
from clearance_runtime.clock import Clock
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ooc_issuer.adapters import custodians as delivery
from ooc_issuer.adapters.document import render_e_ooc
from ooc_issuer.adapters.repository import case_of
from ooc_issuer.adapters.signing import DocumentSigner, InvalidDocument
from ooc_issuer.adapters.unit_of_work import SqlOocUnitOfWork
from ooc_issuer.domain.case import RELEASED, CaseError, ClearanceCase, StaleVersion
from ooc_issuer.domain.facts import Officer
from ooc_issuer.service_layer.handlers import issue_releases
from ooc_issuer.service_layer.messages import conditions_data

Officers = Annotated[Principal, Depends(requires("officer"))]
Filers = Annotated[Principal, Depends(requires("filer"))]
Custodians = Annotated[Principal, Depends(requires("custodian"))]
CustodiansOrAdmins = Annotated[Principal, Depends(requires("custodian", "administrator"))]
JsonObject = Annotated[dict[str, Any], Body()]

_QUEUE = text(
    "SELECT port_code, be_no, be_date, version, state, held_reasons, grantable, queued_at "
    "FROM clearance_case WHERE port_code = :location AND queued_at IS NOT NULL "
    "AND state IN ('held', 'conditionally_cleared') ORDER BY queued_at, be_no LIMIT :limit"
)
_CASE = text(
    "SELECT * FROM clearance_case WHERE port_code = :port_code AND be_no = :be_no "
    "AND be_date = :be_date"
)
_DOCUMENT = text(
    "SELECT pdf, sha256 FROM e_ooc_document WHERE port_code = :port_code AND be_no = :be_no "
    "AND be_date = :be_date"
)
_COPY = text(
    "SELECT data FROM bill_of_entry_copy WHERE port_code = :port_code AND be_no = :be_no "
    "AND be_date = :be_date AND version = :version"
)
_KEEP_DOCUMENT = text(
    "INSERT INTO e_ooc_document (port_code, be_no, be_date, pdf, sha256) "
    "VALUES (:port_code, :be_no, :be_date, :pdf, :sha256) ON CONFLICT DO NOTHING"
)


def _validated(schema_name: str, body: dict[str, Any]) -> None:
    try:
        validate_http(schema_name, body)
    except ContractViolation as error:
        raise HTTPException(status_code=422, detail=str(error)) from error


def _identity(port_code: str, be_no: str, be_date: str) -> tuple[str, str, date]:
    try:
        return port_code, be_no, date.fromisoformat(be_date)
    except ValueError as error:
        raise HTTPException(status_code=404, detail="no such BE") from error


def _officer(principal: Principal, port_code: str) -> Officer:
    """The officer acting, who must be posted at the BE's customs location."""
    location = principal.scope.get("location")
    if location != port_code:
        raise HTTPException(status_code=403, detail=f"not an officer of {port_code}")
    return Officer(principal.subject, location)


def case_view(case: ClearanceCase) -> dict[str, Any]:
    """What an officer sees of a case: state, reasons, facts joined, the release."""
    facts = case.release_facts()
    issued = case.issued
    return {
        "bill_of_entry_ref": case.ref.to_data(),
        "state": case.state.value,
        "reasons": reasons_data(list(case.held_reasons)),
        "grantable": case.grantable,
        "queued_at": case.queued_at.isoformat() if case.queued_at else None,
        "facts": {
            "missing": case.facts.missing(),
            "aeo_certificate": case.facts.registered.aeo_certificate.tier
            if case.facts.registered and case.facts.registered.aeo_certificate
            else None,
            "bis": case.facts.bis.verdict.value if case.facts.bis else None,
            "sampled_items": list(case.facts.bis.sampled_items) if case.facts.bis else [],
            "rms_selections": sorted(case.facts.rms.selections) if case.facts.rms else None,
            "assessment": "valid"
            if facts and facts.assessment
            else "stale"
            if facts and facts.assessment_stale
            else None,
            "examination": case.examination.outcome.value if case.examination else None,
            "nocs": {agency: noc.granted for agency, noc in case.nocs.items()},
            "paid": float(facts.paid) if facts else None,
            "deferred": float(facts.deferred) if facts else None,
            "duty_due": float(due) if facts and (due := facts.duty_due()) is not None else None,
            "seal": case.facts.seal.outcome if case.facts.seal else None,
            "sample": None
            if case.sample is None
            else ("conforming" if case.sample.conforming else "non_conforming"),
        },
        "out_of_charge": None
        if issued is None
        else {
            "ooc_no": issued.out_of_charge_no,
            "gatepass_no": issued.gatepass_no,
            "version": issued.version,
            "mode": issued.mode.value,
            "custodian_code": issued.custodian_code,
            "conditions": conditions_data(issued.restriction),
            "issued_at": issued.at.isoformat(),
        },
        "sale_restricted": case.sale_restricted,
        "re_export_ordered": case.re_export_ordered,
    }


def routes(
    *,
    engine: AsyncEngine,
    unit_of_work: Callable[[], AbstractAsyncContextManager[SqlOocUnitOfWork]],
    signer: DocumentSigner,
    client: httpx.AsyncClient,
    clock: Clock,
    challenge_timeout_s: float,
) -> list[APIRouter]:
    officers = APIRouter(tags=["OOC officers"])
    documents = APIRouter(tags=["e-OOC"])
    custodians = APIRouter(prefix="/custodians/{custodian_code}", tags=["custodians"])

    async def _read_case(identity: tuple[str, str, date]) -> ClearanceCase:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    _CASE, dict(zip(("port_code", "be_no", "be_date"), identity, strict=True))
                )
            ).first()
        if row is None:
            raise HTTPException(status_code=404, detail="no such BE")
        return case_of(row)

    # --- the OOC officer (RMS-QUEUE-1, OOC-AUTO-1, OOC-CCV-1) ------------------------------

    @officers.get("/queues/out-of-charge", summary="The OOC officer's queue, first in first out")
    async def queue(
        who: Officers,
        location: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        location = location or who.scope.get("location")
        if location is None or location != who.scope.get("location"):
            raise HTTPException(status_code=403, detail="an officer sees their location's queue")
        async with engine.connect() as conn:
            rows = (await conn.execute(_QUEUE, {"location": location, "limit": limit})).all()
        return {
            "location": location,
            "queue": [
                {
                    "bill_of_entry_ref": BillOfEntryRef(
                        r.port_code, r.be_no, r.be_date, r.version
                    ).to_data(),
                    "state": r.state,
                    "reasons": r.held_reasons,
                    "grantable": r.grantable,
                    "queued_at": r.queued_at.isoformat(),
                }
                for r in rows
            ],
        }

    @officers.get("/cases/{port_code}/{be_no}/{be_date}", summary="A BE's case: facts, reasons")
    async def read_case(port_code: str, be_no: str, be_date: str, who: Officers) -> dict[str, Any]:
        _officer(who, port_code)
        return case_view(await _read_case(_identity(port_code, be_no, be_date)))

    @officers.post(
        "/cases/{port_code}/{be_no}/{be_date}/decision",
        summary="Grant OOC, clear conditionally before payment (CCV), or refuse",
    )
    async def decide(
        port_code: str, be_no: str, be_date: str, body: JsonObject, who: Officers
    ) -> dict[str, Any]:
        _validated(OFFICER_DECISION, body)
        officer = _officer(who, port_code)
        identity = _identity(port_code, be_no, be_date)
        if body["decision"] == "refuse" and not body.get("reason"):
            raise HTTPException(status_code=422, detail="a refusal says why")
        try:
            async with unit_of_work() as uow:
                case = (await uow.cases.for_update([identity]))[identity]
                if case.version == 0:
                    raise HTTPException(status_code=404, detail="no such BE")
                now = uow.clock.now()
                if body["decision"] == "grant":
                    release = case.grant(officer, body["version"])
                    await issue_releases(uow, signer, {identity: (case, release)})
                elif body["decision"] == "ccv":
                    case.clear_conditionally(officer, body["version"], now)
                    if (paid := case.settle(now)) is not None:  # the duty was paid already
                        await issue_releases(uow, signer, {identity: (case, paid)})
                else:
                    case.refuse(officer, body["version"], body["reason"], now)
                uow.cases.save(case)
                uow.track(case)
        except StaleVersion as error:
            raise HTTPException(status_code=409, detail=str(error)) from error
        except CaseError as error:
            detail = {"error": str(error), "reasons": reasons_data(list(error.reasons))}
            raise HTTPException(status_code=409, detail=detail) from error
        return case_view(case)

    # --- the e-OOC (OOC-EOOC-1) ---------------------------------------------------------------

    @documents.get("/.well-known/jwks.json", summary="The public keys that verify e-OOC tokens")
    async def jwks() -> dict[str, Any]:
        return signer.jwks()

    @documents.post("/e-ooc/verification", summary="Is this e-OOC token authentic and on record?")
    async def verify(body: JsonObject) -> dict[str, Any]:
        _validated(E_OOC_VERIFICATION, body)
        try:
            key_id, claims = signer.verify(body["token"])
        except InvalidDocument as error:
            return {"valid": False, "error": str(error)}
        try:
            case = await _read_case(
                (claims["port_code"], claims["be_no"], date.fromisoformat(claims["be_date"]))
            )
            on_record = case.issued is not None and case.issued.out_of_charge_no == claims["ooc_no"]
        except (HTTPException, KeyError, ValueError):
            on_record = False
        return {"valid": True, "key_id": key_id, "claims": claims, "on_record": on_record}

    @documents.get(
        "/e-ooc/{port_code}/{be_no}/{be_date}",
        summary="The e-OOC PDF, for the BE's importer or customs broker only",
        response_class=Response,
    )
    async def e_ooc(port_code: str, be_no: str, be_date: str, who: Filers) -> Response:
        identity = _identity(port_code, be_no, be_date)
        case = await _read_case(identity)
        be, issued = case.facts.registered, case.issued
        if be is None or issued is None or case.state not in RELEASED:
            raise HTTPException(status_code=404, detail="no such e-OOC")
        mine = who.scope.get("iec") == be.iec or (
            be.customs_broker_code is not None
            and who.scope.get("cb_code") == be.customs_broker_code
        )
        if not mine:  # another filer learns nothing, not even that the BE exists
            raise HTTPException(status_code=404, detail="no such e-OOC")
        params = dict(zip(("port_code", "be_no", "be_date"), identity, strict=True))
        async with engine.connect() as conn:
            kept = (await conn.execute(_DOCUMENT, params)).first()
            copy = (await conn.execute(_COPY, {**params, "version": issued.version})).first()
        if kept is None:
            if copy is None:
                raise HTTPException(status_code=404, detail="the BE copy is not kept")
            _, claims = signer.verify(issued.document_token)
            reasons = [f"{r.rule_id}: {r.message}" for r in issued.reasons]
            pdf = await asyncio.to_thread(
                render_e_ooc, copy.data, claims, issued.document_token, reasons
            )
            async with engine.begin() as conn:
                await conn.execute(
                    _KEEP_DOCUMENT,
                    {**params, "pdf": pdf, "sha256": hashlib.sha256(pdf).hexdigest()},
                )
                kept = (await conn.execute(_DOCUMENT, params)).first()
        assert kept is not None
        return Response(
            content=bytes(kept.pdf),
            media_type="application/pdf",
            headers={
                "etag": f'"{kept.sha256}"',
                "x-content-sha256": kept.sha256,
                "content-disposition": f'inline; filename="e-ooc-{be_no}-{be_date}.pdf"',
            },
        )

    # --- custodians (OOC-GP-1) ----------------------------------------------------------------

    def _custodian(who: Principal, code: str) -> str:
        if custodian(code) is None:
            raise HTTPException(status_code=404, detail="no such custodian")
        if who.has("custodian") and who.scope.get("custodian") != code:
            raise HTTPException(status_code=403, detail="a custodian acts for itself only")
        return code

    @custodians.put("/callback", summary="Register the callback e-Gatepasses are pushed to")
    async def register(custodian_code: str, body: JsonObject, who: Custodians) -> dict[str, Any]:
        _validated(CUSTODIAN_CALLBACK, body)
        code = _custodian(who, custodian_code)
        try:
            secret = await delivery.register_callback(
                engine, client, code, body["url"], clock.now(), challenge_timeout_s
            )
        except delivery.ChallengeFailed as error:
            raise HTTPException(status_code=422, detail=str(error)) from error
        return {
            "custodian_code": code,
            "url": body["url"],
            "secret": secret,
            "signature": "x-clearance-signature: v1=hex(HMAC-SHA256(secret, "
            "x-clearance-timestamp + '.' + body)); idempotency-key: the gatepass_no",
        }

    @custodians.get("/gatepasses", summary="Pull the e-Gatepasses not yet received")
    async def pulled(
        custodian_code: str, who: Custodians, limit: Annotated[int, Query(ge=1, le=500)] = 100
    ) -> dict[str, Any]:
        code = _custodian(who, custodian_code)
        return {"custodian_code": code, "gatepasses": await delivery.pull(engine, code, limit)}

    @custodians.post(
        "/gatepasses/{gatepass_no}/acknowledgement", summary="Acknowledge an e-Gatepass received"
    )
    async def acknowledged(
        custodian_code: str, gatepass_no: str, who: Custodians
    ) -> dict[str, Any]:
        code = _custodian(who, custodian_code)
        outcome = await delivery.acknowledge(engine, code, gatepass_no, clock.now())
        if outcome is None:
            raise HTTPException(status_code=404, detail="no such e-Gatepass for this custodian")
        return {"gatepass_no": gatepass_no, "outcome": outcome}

    @custodians.get("/delivery", summary="The callback's health and every delivery attempt")
    async def status(custodian_code: str, who: CustodiansOrAdmins) -> dict[str, Any]:
        code = _custodian(who, custodian_code)
        return await delivery.delivery_status(engine, code)

    return [officers, documents, custodians]
