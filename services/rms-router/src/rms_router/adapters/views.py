"""Reads for the HTTP API: queues, decisions and audit trails (no locks, no writes)."""

from __future__ import annotations

from typing import Any

from clearance_domain import Identity
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rms_router.domain.work import BILL_OF_ENTRY

_QUEUE = text(
    "SELECT task_id, port_code, be_no, be_date, version, document, kind, agency, position, "
    "opened_at "
    "FROM officer_task WHERE queue = :queue AND state = 'open' "
    "AND (CAST(:kind AS text) IS NULL OR kind = :kind) ORDER BY position LIMIT :limit"
)
_EXAMINATIONS = text(
    "SELECT port_code, be_no, be_date, version, document, kind, queue, "
    "summary->>'assessment_group' AS assessment_group, opened_at AS queued_at, position "
    "FROM officer_task WHERE state = 'open' AND kind IN ('examination', 'scanning') "
    "AND (CAST(:group AS text) IS NULL OR summary->>'assessment_group' = :group) "
    "ORDER BY position LIMIT :limit"
)
_QUEUE_COUNTS = text(
    "SELECT state, count(*) AS n FROM officer_task WHERE queue = :queue "
    "AND state IN ('open', 'claimed') GROUP BY state"
)
_DECISIONS = text(
    "SELECT version, outcome, selections, assessment_group, rule_set_version, fired_rules, "
    "examination_instructions, partner_agencies, interdiction, reasons, decided_at, facts "
    "FROM rms_decision WHERE port_code = :port_code AND be_no = :be_no AND be_date = :be_date "
    "ORDER BY version"
)
_AUDIT = text(
    "SELECT entry_id, version, at, actor, action, reasons, detail FROM audit_entry "
    "WHERE port_code = :port_code AND be_no = :be_no AND be_date = :be_date "
    "AND document = :document ORDER BY entry_id"
)
_TASKS = text(
    "SELECT task_id, version, kind, queue, state, agency FROM officer_task "
    "WHERE port_code = :port_code AND be_no = :be_no AND be_date = :be_date "
    "AND document = :document ORDER BY task_id"
)


def _key(identity: Identity) -> dict[str, Any]:
    return {"port_code": identity[0], "be_no": identity[1], "be_date": identity[2]}


async def queue(
    session: AsyncSession, queue_name: str, kind: str | None, limit: int
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    rows = await session.execute(_QUEUE, {"queue": queue_name, "kind": kind, "limit": limit})
    counts = await session.execute(_QUEUE_COUNTS, {"queue": queue_name})
    return [dict(row._mapping) for row in rows], {row.state: row.n for row in counts}


async def examinations(
    session: AsyncSession, group: str | None, limit: int
) -> list[dict[str, Any]]:
    """Open examinations and scans of every location, FIFO (the operations console)."""
    rows = await session.execute(_EXAMINATIONS, {"group": group, "limit": limit})
    return [dict(row._mapping) for row in rows]


async def decisions(session: AsyncSession, identity: Identity) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in await session.execute(_DECISIONS, _key(identity))]


async def audit_trail(
    session: AsyncSession, identity: Identity, document: str = BILL_OF_ENTRY
) -> list[dict[str, Any]]:
    """The trail of a BE, or of a Shipping Bill (SEAL-TAMPER-1)."""
    params = {**_key(identity), "document": document}
    return [dict(row._mapping) for row in await session.execute(_AUDIT, params)]


async def tasks_of(
    session: AsyncSession, identity: Identity, document: str = BILL_OF_ENTRY
) -> list[dict[str, Any]]:
    params = {**_key(identity), "document": document}
    return [dict(row._mapping) for row in await session.execute(_TASKS, params)]
