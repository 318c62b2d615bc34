"""HTTP API of be-intake: file a BE, and ask where a BE is and why.

Request and response bodies are validated against their contracts
(`contracts/.../schemas/http/`), and OpenAPI publishes those same schemas.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

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
from clearance_runtime.unit_of_work import UnitOfWorkFactory
from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from be_intake.adapters import repository
from be_intake.domain.filing import identity
from be_intake.service_layer.handlers import file_bill_of_entry

_STATUS_CODES = {"registered": 202, "duplicate": 200, "rejected": 422}


def _json_body(name: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": dereferenced_schema(name)}}}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def router(
    unit_of_work: UnitOfWorkFactory, sessions: async_sessionmaker[AsyncSession]
) -> APIRouter:
    api = APIRouter(prefix="/bills-of-entry", tags=["bills of entry"])

    @api.post(
        "",
        status_code=202,
        summary="File a Bill of Entry (the same path as the upstream topic)",
        openapi_extra={"requestBody": {"required": True, **_json_body(BILL_OF_ENTRY_FILING)}},
        responses={code: _json_body(BILL_OF_ENTRY_ACCEPTED) for code in (200, 202, 422)},
    )
    async def file(request: Request, response: Response) -> dict[str, Any]:
        filing = await request.json()
        try:
            validate_event(BILL_OF_ENTRY_FILED, filing)
        except ContractViolation as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        event_id = str(uuid.uuid4())
        async with unit_of_work() as uow:
            result = await file_bill_of_entry(filing, event_id, uow)
        port_code, be_no, be_date = identity(filing)
        response.status_code = _STATUS_CODES[result.outcome]
        body = {
            "bill_of_entry_ref": {"port_code": port_code, "be_no": be_no, "be_date": be_date},
            "event_id": event_id,
            "outcome": result.outcome,
            "reasons": result.reasons,
            "status_url": f"/bills-of-entry/{port_code}/{be_no}/{be_date}",
        }
        validate_http(BILL_OF_ENTRY_ACCEPTED, body)
        return body

    @api.get(
        "/{port_code}/{be_no}/{be_date}",
        summary="Where is my BE, and why?",
        responses={200: _json_body(BILL_OF_ENTRY_STATUS)},
    )
    async def status(port_code: str, be_no: str, be_date: date) -> dict[str, Any]:
        async with sessions() as session:
            view = await repository.status_of(session, (port_code, be_no, be_date.isoformat()))
        if view is None:
            raise HTTPException(status_code=404, detail="no Bill of Entry with this identity")
        body = {
            "bill_of_entry_ref": {
                "port_code": port_code,
                "be_no": be_no,
                "be_date": be_date.isoformat(),
            },
            **{key: _iso(value) for key, value in view.items()},
            "history": [
                {key: _iso(value) for key, value in entry.items()} for entry in view["history"]
            ],
        }
        validate_http(BILL_OF_ENTRY_STATUS, body)
        return body

    return api
