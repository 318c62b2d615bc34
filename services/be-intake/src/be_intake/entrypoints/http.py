"""HTTP API of be-intake: file and amend BEs, ask where a BE is and why, search, look up
the AEO directory and arrivals, and the officer's waivers and approvals.

Request and response bodies are validated against their contracts
(`contracts/.../schemas/http/`), and OpenAPI publishes those same schemas, with
an example and every response each route can give. One access dependency per
route (`clearance_runtime.access.requires`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date
from typing import Annotated, Any

import orjson
from clearance_contracts import (
    AEO_CERTIFICATES,
    AMENDMENT_DECISION,
    ASSESSMENT_ROUTING,
    BILL_OF_ENTRY_ACCEPTED,
    BILL_OF_ENTRY_AMENDMENT,
    BILL_OF_ENTRY_AMENDMENT_FILED,
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_FILING,
    BILL_OF_ENTRY_STATUS,
    HTTP_ERROR,
    IGM_ARRIVAL,
    OFFICER_WAIVER,
    ContractViolation,
    dereferenced_schema,
    example,
    validate_event,
    validate_http,
)
from clearance_domain import BillOfEntryRef
from clearance_runtime.access import Principal, requires
from clearance_runtime.policies import PolicyBook
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from be_intake.adapters import views
from be_intake.service_layer.handlers import process
from be_intake.service_layer.messages import (
    Amendment,
    AmendmentDecision,
    Filing,
    Identity,
    Item,
    Result,
    Waiver,
)
from be_intake.service_layer.unit_of_work import IntakeUnitOfWork

#: Who files: a filer (its own BEs only: CB code or IEC) or the upstream system.
Filer = Annotated[Principal, Depends(requires("filer", "upstream"))]
#: An officer of the BE's customs location (the `location` claim against the path's port).
Officer = Annotated[Principal, Depends(requires("officer", location="port_code"))]
#: Who asks where a BE is: its filer (checked against the BE's CB code / IEC), an officer of
#: its port, the upstream, a custodian, administrators.
Reader = Annotated[
    Principal,
    Depends(
        requires("filer", "officer", "upstream", "custodian", "administrator", location="port_code")
    ),
]
PortCode = Annotated[str, Path(pattern=r"^[A-Z]{2}[A-Z0-9]{4}$", examples=["INNSA1"])]
BeNo = Annotated[str, Path(pattern=r"^[0-9]{7}$", examples=["2345678"])]
BeDate = Annotated[date, Path(examples=["2025-03-20"])]

_FILING_CODES = {"registered": 202, "duplicate": 200, "rejected": 422}
_AMENDMENT_CODES = {"registered": 202, "pending": 202, "duplicate": 200, "rejected": 422}


def _json(name: str, sample: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": dereferenced_schema(name)}
    if sample is not None:
        content["example"] = sample
    return {"content": {"application/json": content}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json(HTTP_ERROR, {"detail": description})}


def _accepted_or_error(description: str) -> dict[str, Any]:
    """422: rejected on intake rules (the accepted body), or a malformed path parameter."""
    schema = {
        "anyOf": [dereferenced_schema(BILL_OF_ENTRY_ACCEPTED), dereferenced_schema(HTTP_ERROR)]
    }
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_AUTH: dict[int | str, dict[str, Any]] = {
    401: _error("no valid bearer token (Authorization: Bearer <access token>)"),
    403: _error("the caller lacks the role the route needs"),
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("no Bill of Entry with this identity")}
_BAD_PARAMETER: dict[int | str, dict[str, Any]] = {
    422: _error("a path or query parameter is malformed (FastAPI's list)")
}
_ACCEPTED_SAMPLE = {
    "bill_of_entry_ref": {
        "port_code": "INNSA1",
        "be_no": "2345678",
        "be_date": "2025-03-20",
        "version": 1,
    },
    "event_id": "0b9f8f4e-3f55-4d3e-9d0e-3b8f1b0a1c2d",
    "outcome": "registered",
    "reasons": [],
    "status_url": "/bills-of-entry/INNSA1/2345678/2025-03-20",
}


async def _body(request: Request) -> Any:
    """The body as JSON, or 400 saying why it is not."""
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise HTTPException(status_code=400, detail=f"the body is not JSON: {error}") from error
    if b"\\u0000" in raw:  # no declaration carries a NUL character (nor can PostgreSQL keep one)
        raise HTTPException(status_code=400, detail="the body contains a NUL character (\\u0000)")
    return body


def _valid(name: str, body: Any) -> None:
    try:
        validate_http(name, body)
    except ContractViolation as error:
        raise HTTPException(status_code=400, detail=str(error)) from error


def _accepted(result: Result, event_id: str, fallback: BillOfEntryRef) -> dict[str, Any]:
    ref = result.ref or fallback
    body = {
        "bill_of_entry_ref": ref.to_data(),
        "event_id": event_id,
        "outcome": result.outcome,
        "reasons": [reason.to_data() for reason in result.reasons],
        "status_url": f"/bills-of-entry/{ref.key}",
    }
    validate_http(BILL_OF_ENTRY_ACCEPTED, body)
    return body


def router(
    unit_of_work: Callable[[], AbstractAsyncContextManager[IntakeUnitOfWork]],
    sessions: async_sessionmaker[AsyncSession],
    book: PolicyBook,
) -> APIRouter:
    api = APIRouter(tags=["bills of entry"])

    async def run(item: Item) -> Result:
        async with unit_of_work() as uow:
            [result] = await process(uow, book, [item])
        assert result is not None
        return result

    @api.post(
        "/bills-of-entry",
        status_code=202,
        summary="File a Bill of Entry (the same path as the upstream topic)",
        description=(
            "Registered (202) when every intake rule passes, rejected (422) with every rule "
            "broken, duplicate (200) for a BE already registered (same identity, or the same "
            "job number and date from the same filer). Received by this system, the filing "
            "is lodged now: `filed_at` is set to the receipt time (INTAKE-TIME-1)."
        ),
        openapi_extra={
            "requestBody": {
                "required": True,
                **_json(BILL_OF_ENTRY_FILING, example(BILL_OF_ENTRY_FILED)),
            }
        },
        responses={
            200: {"description": "duplicate", **_json(BILL_OF_ENTRY_ACCEPTED)},
            202: {"description": "registered", **_json(BILL_OF_ENTRY_ACCEPTED, _ACCEPTED_SAMPLE)},
            400: _error("the body is not JSON, breaks the filing event's contract, or has a NUL"),
            **_AUTH,
            422: {"description": "rejected on intake rules", **_json(BILL_OF_ENTRY_ACCEPTED)},
        },
    )
    async def file(request: Request, response: Response, caller: Filer) -> dict[str, Any]:
        filing = await _body(request)
        # Malformed (the event's schema): 400. The published schema is stricter (the rules a
        # schema can hold); what breaks a rule is rejected with every reason (422).
        try:
            validate_event(BILL_OF_ENTRY_FILED, filing)
        except ContractViolation as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        if not caller.permits(cb_code=filing.get("customs_broker_code"), iec=filing.get("iec")):
            raise HTTPException(403, "a filer files only BEs of its own CB code or IEC")
        event_id = str(uuid.uuid4())
        async with unit_of_work() as uow:
            filing["filed_at"] = uow.clock.now().isoformat()  # lodged now, here
            [result] = await process(uow, book, [Filing(filing, event_id)])
        assert result is not None
        response.status_code = _FILING_CODES[result.outcome]
        fallback = BillOfEntryRef.from_data(filing)
        return _accepted(result, event_id, fallback)

    @api.get(
        "/bills-of-entry/{port_code}/{be_no}/{be_date}",
        summary="Where is my BE, and why? (the BE key `<port_code>/<be_no>/<be_date>`)",
        responses={200: _json(BILL_OF_ENTRY_STATUS), **_AUTH, **_NOT_FOUND, **_BAD_PARAMETER},
    )
    async def status(
        port_code: PortCode, be_no: BeNo, be_date: BeDate, caller: Reader
    ) -> dict[str, Any]:
        identity: Identity = (port_code, be_no, be_date)
        async with sessions() as session:
            if caller.has("filer"):
                cb_code, iec = await views.filer_of(session, identity)
                # Another filer's BE does not exist for this one (404, as an unknown BE).
                caller.check(cb_code=cb_code or "-", iec=iec or "-")
            found = await views.case_of(session, identity)
            if found is None:
                raise HTTPException(status_code=404, detail="no Bill of Entry with this identity")
            case, updated_at = found
            more = await views.details(session, identity)
        timeline = more["timeline"]
        body = {
            "bill_of_entry_ref": case.ref.to_data(),
            "status": None if case.status is None else case.status.value,
            "notice_code": None if case.status is None else case.status.code,
            "registered": case.registered,
            "filer": case.filer,
            "iec": case.iec,
            "presented_on": None if case.presented_on is None else case.presented_on.isoformat(),
            "aeo_certificate": case.aeo,
            "aeo_claim": case.aeo_claim,
            "arrival": case.arrival,
            "charges": _charges(case),
            "out_of_charge_no": (case.ooc or {}).get("no"),
            "gatepass_no": case.gatepass_no,
            "pending_amendment": _pending(case.pending_amendment),
            "history": timeline,
            "versions": more["versions"],
            "reasons": _status_reasons(timeline),
            "updated_at": updated_at.isoformat(),
            "stuck": any(not letter["resolved"] for letter in more["dead_letters"]),
            "dead_letters": more["dead_letters"],
        }
        validate_http(BILL_OF_ENTRY_STATUS, body)
        return body

    @api.post(
        "/bills-of-entry/{port_code}/{be_no}/{be_date}/amendments",
        status_code=202,
        summary="Amend a registered BE (ICES CACHI01_A; INTAKE-AMEND-1, INTAKE-AMEND-2)",
        openapi_extra={
            "requestBody": {
                "required": True,
                **_json(
                    BILL_OF_ENTRY_AMENDMENT, example("icegate.bill-of-entry.amendment-filed.v1")
                ),
            }
        },
        responses={
            200: {"description": "duplicate: nothing changed", **_json(BILL_OF_ENTRY_ACCEPTED)},
            202: {
                "description": "registered as the next version, or sent to an officer",
                **_json(BILL_OF_ENTRY_ACCEPTED),
            },
            400: _error("the body is not JSON or breaks the contract"),
            **_AUTH,
            **_NOT_FOUND,
            409: _error("the amended BE names another identity than the path"),
            422: _accepted_or_error("rejected on intake rules, or a malformed path parameter"),
        },
    )
    async def amend(
        port_code: PortCode,
        be_no: BeNo,
        be_date: BeDate,
        request: Request,
        response: Response,
        caller: Filer,
    ) -> dict[str, Any]:
        data = await _body(request)
        try:  # malformed: 400; a rule broken: 422 with every reason (as for a filing)
            validate_event(BILL_OF_ENTRY_AMENDMENT_FILED, data)
        except ContractViolation as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        be = data["bill_of_entry"]
        if (be["port_code"], be["be_no"], be["be_date"]) != (port_code, be_no, be_date.isoformat()):
            raise HTTPException(status_code=409, detail="the amended BE names another identity")
        async with sessions() as session:
            if caller.has("filer"):
                cb_code, iec = await views.filer_of(session, (port_code, be_no, be_date))
                caller.check(cb_code=cb_code or "-", iec=iec or "-")  # another's BE: 404
            found = await views.case_of(session, (port_code, be_no, be_date))
        if found is None or not found[0].registered:
            raise HTTPException(status_code=404, detail="no Bill of Entry with this identity")
        event_id = str(uuid.uuid4())
        result = await run(Amendment(data, event_id))
        response.status_code = _AMENDMENT_CODES[result.outcome]
        return _accepted(result, event_id, BillOfEntryRef(port_code, be_no, be_date))

    @api.post(
        "/bills-of-entry/{port_code}/{be_no}/{be_date}/amendments/{amendment_no}/decision",
        summary="The officer approves or refuses a post-clearance amendment (INTAKE-AMEND-2)",
        openapi_extra={
            "requestBody": {
                "required": True,
                **_json(
                    AMENDMENT_DECISION,
                    {"approve": True, "reason": "invoice of 3 March 2025 shows it"},
                ),
            }
        },
        responses={
            200: {"description": "approved or refused", **_json(BILL_OF_ENTRY_ACCEPTED)},
            400: _error("the body is not JSON or breaks the contract"),
            **_AUTH,
            404: _error("no amendment with this number awaits an officer on this BE"),
            **_BAD_PARAMETER,
        },
    )
    async def decide(
        port_code: PortCode,
        be_no: BeNo,
        be_date: BeDate,
        amendment_no: Annotated[int, Path(ge=1, le=998)],
        request: Request,
        officer: Officer,
    ) -> dict[str, Any]:
        data = await _body(request)
        _valid(AMENDMENT_DECISION, data)
        item = AmendmentDecision(
            (port_code, be_no, be_date),
            amendment_no,
            data["approve"],
            officer.subject,
            data["reason"],
        )
        result = await run(item)
        if result.outcome == "unknown":
            raise HTTPException(404, "no amendment with this number awaits an officer on this BE")
        return _accepted(result, str(uuid.uuid4()), BillOfEntryRef(port_code, be_no, be_date))

    @api.post(
        "/bills-of-entry/{port_code}/{be_no}/{be_date}/late-charges/waiver",
        summary="The officer waives late presentation charges for sufficient cause (INTAKE-LATE-2)",
        openapi_extra={
            "requestBody": {
                "required": True,
                **_json(OFFICER_WAIVER, {"reason": "port congestion notified by the Commissioner"}),
            }
        },
        responses={
            200: {"description": "waived", **_json(BILL_OF_ENTRY_ACCEPTED)},
            400: _error("the body is not JSON or breaks the contract"),
            **_AUTH,
            **_NOT_FOUND,
            409: _error("no late presentation charges to waive, or already waived"),
            **_BAD_PARAMETER,
        },
    )
    async def waive(
        port_code: PortCode, be_no: BeNo, be_date: BeDate, request: Request, officer: Officer
    ) -> dict[str, Any]:
        data = await _body(request)
        _valid(OFFICER_WAIVER, data)
        result = await run(Waiver((port_code, be_no, be_date), officer.subject, data["reason"]))
        if result.outcome == "unknown":
            raise HTTPException(status_code=404, detail="no Bill of Entry with this identity")
        if result.outcome == "refused_waiver":
            raise HTTPException(status_code=409, detail=result.reasons[0].message)
        return _accepted(result, str(uuid.uuid4()), BillOfEntryRef(port_code, be_no, be_date))

    @api.get(
        "/aeo-certificates",
        tags=["reference data"],
        summary="The AEO directory's certificates of an IEC, as be-intake holds them",
        responses={200: _json(AEO_CERTIFICATES), **_AUTH, **_BAD_PARAMETER},
    )
    async def certificates(
        iec: Annotated[str, Query(pattern=r"^[A-Z0-9]{10}$", examples=["AAGCS4417M"])], _: Reader
    ) -> dict[str, Any]:
        async with sessions() as session:
            body = {"iec": iec, "certificates": await views.certificates(session, iec)}
        validate_http(AEO_CERTIFICATES, body)
        return body

    @api.get(
        "/assessment-routing",
        tags=["reference data"],
        summary="rms-router's faceless assessment routing (RMS-FAG-1), as be-intake holds it",
        responses={200: _json(ASSESSMENT_ROUTING), **_AUTH},
    )
    async def assessment_routing(_: Reader) -> dict[str, Any]:
        """Each rule-set version's table as rms-router published it: the table the ICES
        acknowledgement's appraising group (CHCAI02 field 23) is picked from."""
        async with sessions() as session:
            body = {"versions": await views.assessment_routing(session)}
        validate_http(ASSESSMENT_ROUTING, body)
        return body

    @api.get(
        "/arrivals/{port_code}/{igm_no}/{igm_date}",
        tags=["reference data"],
        summary="A carrier's arrival (IGM entered inward), as be-intake recorded it",
        responses={
            200: _json(IGM_ARRIVAL),
            **_AUTH,
            404: _error("no arrival recorded for this IGM"),
            **_BAD_PARAMETER,
        },
    )
    async def arrival(
        port_code: PortCode,
        igm_no: Annotated[str, Path(pattern=r"^[0-9]{1,7}$")],
        igm_date: date,
        _: Reader,
    ) -> dict[str, Any]:
        async with sessions() as session:
            body = await views.arrival(session, port_code, igm_no, igm_date)
        if body is None:
            raise HTTPException(status_code=404, detail="no arrival recorded for this IGM")
        validate_http(IGM_ARRIVAL, body)
        return body

    return api


def _status_reasons(timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reasons of the fact that brought the current status (the first of the latest run
    of entries with that status that has any), else of the latest fact."""
    if not timeline:
        return []
    current = timeline[-1]["status"]
    run = []
    for entry in reversed(timeline):
        if entry["status"] != current:
            break
        run.append(entry)
    for entry in reversed(run):
        if entry["reasons"]:
            return list(entry["reasons"])
    return list(timeline[-1]["reasons"])


def _charges(case: Any) -> dict[str, Any]:
    outstanding = 0 if case.settled else max(case.amount_due - case.total_paid, 0)
    late = None if case.late is None else {**case.late, "charge": float(case.late["charge"])}
    deferred = (
        None
        if case.deferred is None
        else {**case.deferred, "amount": float(case.deferred["amount"])}
    )
    payments = [{**p, "amount": float(p["amount"])} for p in case.payments]
    return {
        "duty_self_assessed": float(case.self_assessed_duty),
        "duty_assessed": None if case.assessed_duty is None else float(case.assessed_duty),
        "late_presentation": late,
        "amount_due": float(case.amount_due),
        "total_paid": float(case.total_paid),
        "outstanding": float(outstanding),
        "deferred": deferred,
        "payments": payments,
    }


def _pending(pending: dict[str, Any] | None) -> dict[str, Any] | None:
    if pending is None:
        return None
    return {
        key: value for key, value in pending.items() if key not in ("bill_of_entry", "event_id")
    }
