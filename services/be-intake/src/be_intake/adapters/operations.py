"""Reads of be-intake's status view for operations staff: search, day figures, the gauge
of BEs not terminal in time (read only; no unit of work)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: Stages after which a BE waits for nothing automatic: released, held for an officer,
#: or rejected at filing.
TERMINAL_STAGES = ("out_of_charge", "held", "rejected")

# One row per BE: its view, its importer, and when it reached each milestone (the
# service clock's time of the first event that put it there).
_SEARCH = text(
    "SELECT s.port_code, s.be_no, s.be_date, s.version, s.stage, s.out_of_charge_no,"
    " s.gatepass_no, s.updated_at, b.iec, b.be_type, t.first_seen_at, t.registered_at,"
    " t.rms_decided_at, t.released_at, t.held_at, t.rejected_at,"
    " EXISTS (SELECT 1 FROM dead_letter d WHERE d.port_code = s.port_code"
    "  AND d.be_no = s.be_no AND d.be_date = s.be_date AND d.resolved_at IS NULL) AS stuck"
    " FROM bill_of_entry_status s"
    " LEFT JOIN bill_of_entry b ON b.port_code = s.port_code AND b.be_no = s.be_no"
    "  AND b.be_date = s.be_date"
    " LEFT JOIN LATERAL (SELECT min(h.at) AS first_seen_at,"
    "  min(h.at) FILTER (WHERE h.stage = 'registered') AS registered_at,"
    "  min(h.at) FILTER (WHERE h.stage = 'rms_decided') AS rms_decided_at,"
    "  min(h.at) FILTER (WHERE h.stage = 'out_of_charge') AS released_at,"
    "  min(h.at) FILTER (WHERE h.stage = 'held') AS held_at,"
    "  min(h.at) FILTER (WHERE h.stage = 'rejected') AS rejected_at"
    "  FROM bill_of_entry_history h WHERE h.port_code = s.port_code AND h.be_no = s.be_no"
    "  AND h.be_date = s.be_date) t ON true"
    " WHERE (CAST(:be_no AS text) IS NULL OR s.be_no = :be_no)"
    " AND (CAST(:iec AS text) IS NULL OR b.iec = :iec)"
    " AND (CAST(:port_code AS text) IS NULL OR s.port_code = :port_code)"
    " AND (CAST(:be_date AS date) IS NULL OR s.be_date = :be_date)"
    " AND (CAST(:seen_from AS timestamptz) IS NULL OR t.first_seen_at >= :seen_from)"
    " AND (CAST(:seen_until AS timestamptz) IS NULL OR t.first_seen_at < :seen_until)"
    " AND (CAST(:stuck AS boolean) IS NULL OR EXISTS (SELECT 1 FROM dead_letter d"
    "  WHERE d.port_code = s.port_code AND d.be_no = s.be_no AND d.be_date = s.be_date"
    "  AND d.resolved_at IS NULL) = :stuck)"
    " ORDER BY t.first_seen_at DESC NULLS LAST, s.port_code, s.be_no LIMIT :limit"
)

_NOT_TERMINAL = text(
    "SELECT count(*) FILTER (WHERE t.first_at < :cutoff) AS overdue, min(t.first_at) AS oldest"
    " FROM bill_of_entry_status s JOIN LATERAL (SELECT min(h.at) AS first_at"
    "  FROM bill_of_entry_history h WHERE h.port_code = s.port_code AND h.be_no = s.be_no"
    "  AND h.be_date = s.be_date) t ON true"
    " WHERE s.stage NOT IN ('out_of_charge', 'held', 'rejected')"
)


async def search(
    session: AsyncSession,
    *,
    be_no: str | None = None,
    iec: str | None = None,
    port_code: str | None = None,
    be_date: date | None = None,
    seen_from: datetime | None = None,
    seen_until: datetime | None = None,
    stuck: bool | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """BEs matching every given criterion, newest first."""
    rows = await session.execute(
        _SEARCH,
        {
            "be_no": be_no,
            "iec": iec,
            "port_code": port_code,
            "be_date": be_date,
            "seen_from": seen_from,
            "seen_until": seen_until,
            "stuck": stuck,
            "limit": limit,
        },
    )
    return [dict(row._mapping) for row in rows]


async def not_terminal(session: AsyncSession, cutoff: datetime) -> tuple[int, datetime | None]:
    """How many BEs first seen before `cutoff` are still neither out of charge, held nor
    rejected; and when the oldest BE not terminal was first seen."""
    row = (await session.execute(_NOT_TERMINAL, {"cutoff": cutoff})).one()
    return int(row.overdue), row.oldest
