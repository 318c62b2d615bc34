"""HTTP API of rms-router: the officers' FIFO examination queue (RMS-QUEUE-1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rms_router.adapters import repository


def router(sessions: async_sessionmaker[AsyncSession]) -> APIRouter:
    api = APIRouter(prefix="/queues", tags=["officer queues"])

    @api.get("/examination", summary="BEs awaiting examination, first in first out")
    async def examination(
        assessment_group: str | None = None, limit: int = Query(100, ge=1, le=1000)
    ) -> list[dict[str, Any]]:
        async with sessions() as session:
            return await repository.examination_queue(session, assessment_group, limit)

    return api
