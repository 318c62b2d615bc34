"""HTTP API of be-intake: file a BE, and ask where a BE is and why.

Request and response bodies are validated against their contracts
(`contracts/.../schemas/http/`), and OpenAPI publishes those same schemas.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Annotated, Any

import orjson
from clearance_contracts import (
    BILL_OF_ENTRY_ACCEPTED,
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_FILING,
    BILL_OF_ENTRY_STATUS,
    ContractViolation,
    dereferenced_schema,
    validate_event,
    validate_http,
)
from clearance_runtime.access import Principal, requires
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from be_intake.adapters import views
from be_intake.service_layer.handlers import file_bill_of_entry
from be_intake.service_layer.unit_of_work import IntakeUnitOfWork

_STATUS_CODES = {"registered": 202, "duplicate": 200, "rejected": 422}


def _json_body(name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": dereferenced_schema(name)}}}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


async def _json_object(request: Request) -> Any:
    """The body as JSON, or 400 saying why it is not."""
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        raise HTTPException(status_code=400, detail=f"the body is not JSON: {error}") from error


#: Who files: a filer (its own BEs only) or the upstream system.
Filer = Annotated[Principal, Depends(requires("filer", "upstream"))]
#: Who asks where a BE is: its filer, an officer of its port, the upstream, administrators.
Reader = Annotated[
    Principal,
    Depends(requires("filer", "officer", "upstream", "administrator", location="port_code")),
]


def router(
    unit_of_work: Callable[[], AbstractAsyncContextManager[IntakeUnitOfWork]],
    sessions: async_sessionmaker[AsyncSession],
) -> APIRouter:
    api = APIRouter(prefix="/bills-of-entry", tags=["bills of entry"])

    @api.post(
        "",
        status_code=202,
        summary="File a Bill of Entry (the same path as the upstream topic)",
        openapi_extra={"requestBody": {"required": True, **_json_body(BILL_OF_ENTRY_FILING)}},
        responses={code: _json_body(BILL_OF_ENTRY_ACCEPTED) for code in (200, 202, 422)},
    )
    async def file(request: Request, response: Response, caller: Filer) -> dict[str, Any]:
        filing = await _json_object(request)
        try:
            validate_event(BILL_OF_ENTRY_FILED, filing)
        except ContractViolation as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        if not caller.permits(cb_code=filing.get("customs_broker_code"), iec=filing.get("iec")):
            raise HTTPException(403, "a filer files only BEs of its own CB code or IEC")
        event_id = str(uuid.uuid4())
        async with unit_of_work() as uow:
            result = await file_bill_of_entry(filing, event_id, uow)
        response.status_code = _STATUS_CODES[result.outcome]
        ref = result.ref
        body = {
            "bill_of_entry_ref": ref.to_data(),
            "event_id": event_id,
            "outcome": result.outcome,
            "reasons": [reason.to_data() for reason in result.reasons],
            "status_url": f"/bills-of-entry/{ref.key}",
        }
        validate_http(BILL_OF_ENTRY_ACCEPTED, body)
        return body

    @api.get(
        "/{port_code}/{be_no}/{be_date}",
        summary="Where is my BE, and why?",
        responses={200: _json_body(BILL_OF_ENTRY_STATUS)},
    )
    async def status(port_code: str, be_no: str, be_date: date, caller: Reader) -> dict[str, Any]:
        async with sessions() as session:
            if caller.has("filer"):
                cb_code, iec = await views.filer_of(session, (port_code, be_no, be_date))
                # Another filer's BE does not exist for this one (404, as an unknown BE).
                caller.check(cb_code=cb_code or "-", iec=iec or "-")
            view = await views.status_of(session, (port_code, be_no, be_date))
        if view is None:
            raise HTTPException(status_code=404, detail="no Bill of Entry with this identity")
        version = view.pop("version")
        body = {
            "bill_of_entry_ref": {
                "port_code": port_code,
                "be_no": be_no,
                "be_date": be_date.isoformat(),
                "version": version,
            },
            **{key: _iso(value) for key, value in view.items()},
            "history": [{k: _iso(v) for k, v in entry.items()} for entry in view["history"]],
            "dead_letters": [
                {k: _iso(v) for k, v in entry.items()} for entry in view["dead_letters"]
            ],
        }
        validate_http(BILL_OF_ENTRY_STATUS, body)
        return body

    return api
