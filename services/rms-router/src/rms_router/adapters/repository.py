"""SQL of rms-router: decisions per BE version and the FIFO examination queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from clearance_domain import BillOfEntryRef, Identity
from clearance_domain.reasons import reasons_data
from clearance_runtime.sql import latest_versions
from clearance_runtime.unit_of_work import SqlUnitOfWork
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rms_router.domain.routing import RmsDecision

_INSERT = text(
    "INSERT INTO rms_decision (port_code, be_no, be_date, version, outcome, assessment_group, "
    "reasons) VALUES (:port_code, :be_no, :be_date, :version, :outcome, :group, "
    "CAST(:reasons AS jsonb)) ON CONFLICT DO NOTHING"
)
# A BE keeps its place in the queue across versions; the entry names the newest one.
_ENQUEUE = text(
    "INSERT INTO examination_queue (port_code, be_no, be_date, version, assessment_group) "
    "VALUES (:port_code, :be_no, :be_date, :version, :group) "
    "ON CONFLICT (port_code, be_no, be_date) DO UPDATE SET version = EXCLUDED.version, "
    "assessment_group = EXCLUDED.assessment_group"
)
_QUEUE = text(
    "SELECT position, port_code, be_no, be_date, version, assessment_group, queued_at "
    "FROM examination_queue WHERE (CAST(:group AS text) IS NULL OR assessment_group = :group) "
    "ORDER BY position LIMIT :limit"
)


class SqlDecisions:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        return await latest_versions(self.uow.session, "rms_decision", identities)

    def add(self, ref: BillOfEntryRef, decision: RmsDecision) -> None:
        key = {
            "port_code": ref.port_code,
            "be_no": ref.be_no,
            "be_date": ref.be_date,
            "version": ref.version,
            "group": decision.assessment_group,
        }
        reasons = orjson.dumps(reasons_data(list(decision.reasons))).decode()
        self.uow.defer(_INSERT, {**key, "outcome": decision.outcome, "reasons": reasons})
        if decision.queued_for_examination:
            self.uow.defer(_ENQUEUE, key)


async def examination_queue(
    session: AsyncSession, group: str | None, limit: int
) -> list[dict[str, Any]]:
    rows = await session.execute(_QUEUE, {"group": group, "limit": limit})
    return [dict(row._mapping) for row in rows]
