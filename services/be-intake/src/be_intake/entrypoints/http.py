"""HTTP API of be-intake: file a BE, and ask where a BE is and why."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from clearance_contracts import ContractViolation, validate_event
from clearance_runtime.unit_of_work import UnitOfWorkFactory
from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from be_intake.adapters import repository
from be_intake.domain.filing import identity
from be_intake.service_layer.handlers import FILED, file_bill_of_entry

_STATUS_CODES = {"registered": 202, "duplicate": 200, "rejected": 422}


def _status_url(port_code: str, be_no: str, be_date: str) -> str:
    return f"/bills-of-entry/{port_code}/{be_no}/{be_date}"


def router(
    unit_of_work: UnitOfWorkFactory, sessions: async_sessionmaker[AsyncSession]
) -> APIRouter:
    api = APIRouter(prefix="/bills-of-entry", tags=["bills of entry"])

    @api.post("", status_code=202, summary="File a Bill of Entry (same path as the upstream topic)")
    async def file(request: Request, response: Response) -> dict[str, Any]:
        filing = await request.json()
        try:
            validate_event(FILED, filing)
        except ContractViolation as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        event_id = str(uuid.uuid4())
        async with unit_of_work() as uow:
            result = await file_bill_of_entry(filing, event_id, uow)
        port_code, be_no, be_date = identity(filing)
        response.status_code = _STATUS_CODES[result.outcome]
        return {
            "bill_of_entry_ref": {"port_code": port_code, "be_no": be_no, "be_date": be_date},
            "event_id": event_id,
            "outcome": result.outcome,
            "reasons": result.reasons,
            "status_url": _status_url(port_code, be_no, be_date),
        }

    @api.get("/{port_code}/{be_no}/{be_date}", summary="Where is my BE, and why?")
    async def status(port_code: str, be_no: str, be_date: date) -> dict[str, Any]:
        async with sessions() as session:
            view = await repository.status_of(session, (port_code, be_no, be_date.isoformat()))
        if view is None:
            raise HTTPException(status_code=404, detail="no Bill of Entry with this identity")
        ref = {"port_code": port_code, "be_no": be_no, "be_date": be_date.isoformat()}
        return {"bill_of_entry_ref": ref, **view}

    return api
