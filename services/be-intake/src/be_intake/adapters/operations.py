"""Reads of be-intake's status view for operations staff: search, day figures, the gauge
of BEs not terminal in time (read only; no unit of work)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: Statuses in which a BE waits for nothing automatic: released or gone, refused or void,
#: with an officer, or waiting for the importer's duty (status view, STATUS-1).
TERMINAL_STATUSES = (
    "released",
    "gatepass_issued",
    "goods_exited",
    "rejected",
    "invalidated",
    "under_control",
    "documents_requested",
    "examination_ordered",
    "duty_due",
)

# Every BE be-intake knows: by its case, or only by a dead letter (its filing unreadable).
_KNOWN = (
    "WITH known AS (SELECT port_code, be_no, be_date FROM intake_case"
    " UNION SELECT port_code, be_no, be_date FROM dead_letter)"
)
# When a BE reached each milestone: the service clock's time of the first fact that put it there.
# By the fact's type, not the status recorded with it: an entry carries the status at the end
# of its batch, so a registration folded with its payment in one batch says `paid`.
_MILESTONES = (
    " LEFT JOIN LATERAL (SELECT min(t.at) AS first_seen_at,"
    "  min(t.at) FILTER (WHERE t.event_type = 'clearance.bill-of-entry.registered.v1')"
    "   AS registered_at,"
    "  min(t.at) FILTER (WHERE t.producer = 'rms-router') AS rms_decided_at,"
    "  min(t.at) FILTER (WHERE t.event_type = 'clearance.out-of-charge.issued.v1') AS released_at,"
    "  min(t.at) FILTER (WHERE t.event_type = 'clearance.out-of-charge.held.v1') AS held_at,"
    "  min(t.at) FILTER (WHERE t.status = 'rejected') AS rejected_at"
    "  FROM timeline t WHERE t.port_code = k.port_code AND t.be_no = k.be_no"
    "  AND t.be_date = k.be_date) m ON true"
    " LEFT JOIN LATERAL (SELECT min(d.dead_lettered_at) AS first_letter_at,"
    "  bool_or(d.resolved_at IS NULL) AS stuck FROM dead_letter d WHERE d.port_code = k.port_code"
    "  AND d.be_no = k.be_no AND d.be_date = k.be_date) d ON true"
)
_SEARCH = text(
    _KNOWN
    + " SELECT k.port_code, k.be_no, k.be_date, greatest(coalesce(c.version, 1), 1) AS version,"
    " c.status, c.iec, c.state->>'be_type' AS be_type,"
    " c.state->'ooc'->>'no' AS out_of_charge_no, c.state->>'gatepass_no' AS gatepass_no,"
    " coalesce(c.updated_at, d.first_letter_at) AS updated_at,"
    " coalesce(m.first_seen_at, d.first_letter_at) AS first_seen_at, m.registered_at,"
    " m.rms_decided_at, m.released_at, m.held_at, m.rejected_at,"
    " coalesce(d.stuck, false) AS stuck"
    " FROM known k LEFT JOIN intake_case c ON c.port_code = k.port_code AND c.be_no = k.be_no"
    "  AND c.be_date = k.be_date"
    + _MILESTONES
    + " WHERE (CAST(:be_no AS text) IS NULL OR k.be_no = :be_no)"
    " AND (CAST(:iec AS text) IS NULL OR c.iec = :iec)"
    " AND (CAST(:port_code AS text) IS NULL OR k.port_code = :port_code)"
    " AND (CAST(:port_codes AS text[]) IS NULL OR k.port_code = ANY(:port_codes))"
    " AND (CAST(:be_date AS date) IS NULL OR k.be_date = :be_date)"
    " AND (CAST(:status AS text) IS NULL OR c.status = :status)"
    " AND (CAST(:seen_from AS timestamptz) IS NULL"
    "  OR coalesce(m.first_seen_at, d.first_letter_at) >= :seen_from)"
    " AND (CAST(:seen_until AS timestamptz) IS NULL"
    "  OR coalesce(m.first_seen_at, d.first_letter_at) < :seen_until)"
    " AND (CAST(:stuck AS boolean) IS NULL OR coalesce(d.stuck, false) = :stuck)"
    " ORDER BY first_seen_at DESC NULLS LAST, k.port_code, k.be_no LIMIT :limit"
)

# The BEs still waiting are chosen before their milestones are read: reading every BE's
# timeline first made the gauge grow with every BE ever seen (1.2 s per reading in the
# 10,000-BE burst, issue 18), though nearly all of them are terminal.
_NOT_TERMINAL = text(
    "WITH known AS (SELECT port_code, be_no, be_date FROM intake_case"
    "  WHERE status IS NULL OR status <> ALL(CAST(:terminal AS text[]))"
    " UNION SELECT d.port_code, d.be_no, d.be_date FROM dead_letter d WHERE NOT EXISTS"
    "  (SELECT 1 FROM intake_case c WHERE c.port_code = d.port_code AND c.be_no = d.be_no"
    "   AND c.be_date = d.be_date))"
    " SELECT count(*) FILTER (WHERE coalesce(m.first_seen_at, d.first_letter_at)"
    "  < :cutoff) AS overdue, min(coalesce(m.first_seen_at, d.first_letter_at)) AS oldest"
    " FROM known k" + _MILESTONES
)


async def search(
    session: AsyncSession,
    *,
    be_no: str | None = None,
    iec: str | None = None,
    port_code: str | None = None,
    port_codes: Sequence[str] | None = None,
    be_date: date | None = None,
    seen_from: datetime | None = None,
    seen_until: datetime | None = None,
    status: str | None = None,
    stuck: bool | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """BEs matching every given criterion, newest first; `port_codes` confines the search
    to those ports (an officer's locations); None: every port."""
    rows = await session.execute(
        _SEARCH,
        {
            "be_no": be_no,
            "iec": iec,
            "port_code": port_code,
            "port_codes": None if port_codes is None else list(port_codes),
            "be_date": be_date,
            "seen_from": seen_from,
            "seen_until": seen_until,
            "status": status,
            "stuck": stuck,
            "limit": limit,
        },
    )
    return [dict(row._mapping) for row in rows]


async def not_terminal(session: AsyncSession, cutoff: datetime) -> tuple[int, datetime | None]:
    """How many BEs first seen before `cutoff` still wait for the platform (not in a
    TERMINAL_STATUSES status); and when the oldest of them was first seen."""
    params = {"cutoff": cutoff, "terminal": list(TERMINAL_STATUSES)}
    row = (await session.execute(_NOT_TERMINAL, params)).one()
    return int(row.overdue), row.oldest
