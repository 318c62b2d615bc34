"""SQL of rms-router: decisions and the FIFO examination queue."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from clearance_runtime.unit_of_work import UnitOfWork
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rms_router.domain.routing import RmsDecision

_INSERT = text(
    "INSERT INTO rms_decision (port_code, be_no, be_date, outcome, assessment_group, reasons) "
    "VALUES (:port_code, :be_no, :be_date, :outcome, :group, CAST(:reasons AS jsonb)) "
    "ON CONFLICT DO NOTHING"
)
_ENQUEUE = text(
    "INSERT INTO examination_queue (port_code, be_no, be_date, assessment_group) "
    "VALUES (:port_code, :be_no, :be_date, :group) ON CONFLICT DO NOTHING"
)
_QUEUE = text(
    "SELECT position, port_code, be_no, be_date, assessment_group, queued_at "
    "FROM examination_queue WHERE (CAST(:group AS text) IS NULL OR assessment_group = :group) "
    "ORDER BY position LIMIT :limit"
)


def add_decision(uow: UnitOfWork, ref: dict[str, str], decision: RmsDecision) -> None:
    """Record the decision and queue the BE if examined (at commit, batched).

    A BE decided before keeps its first decision and its place in the queue.
    """
    key = {**ref, "be_date": date.fromisoformat(ref["be_date"])}
    uow.defer(
        _INSERT,
        {
            **key,
            "outcome": decision.outcome,
            "group": decision.assessment_group,
            "reasons": orjson.dumps(decision.reasons).decode(),
        },
    )
    if decision.queued_for_examination:
        uow.defer(_ENQUEUE, {**key, "group": decision.assessment_group})


async def examination_queue(
    session: AsyncSession, group: str | None, limit: int
) -> list[dict[str, Any]]:
    rows = await session.execute(_QUEUE, {"group": group, "limit": limit})
    return [dict(row._mapping) for row in rows]
