"""HTTP API of rms-router: the officers' FIFO examination queue (RMS-QUEUE-1)."""

from __future__ import annotations

from typing import Annotated, Any

from clearance_runtime.access import Principal, requires
from clearance_runtime.web import PageSize
from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rms_router.adapters import repository


def router(sessions: async_sessionmaker[AsyncSession]) -> APIRouter:
    api = APIRouter(prefix="/queues", tags=["officer queues"])

    @api.get("/examination", summary="BEs awaiting examination, first in first out")
    async def examination(
        caller: Annotated[Principal, Depends(requires("officer", "administrator"))],
        assessment_group: str | None = None,
        limit: PageSize = 100,
    ) -> list[dict[str, Any]]:
        # An officer sees the BEs of the location(s) it is bound to; administrators all.
        ports = None if caller.has("administrator") else sorted(caller.values("location"))
        async with sessions() as session:
            return await repository.examination_queue(session, assessment_group, limit, ports)

    return api
