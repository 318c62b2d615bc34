"""SQL of be-intake: registered Bills of Entry and the status view."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from clearance_runtime.unit_of_work import UnitOfWork
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from be_intake.domain.status import STAGE_RANK, StatusChange

Identity = tuple[str, str, str]

_INSERT_BE = text(
    "INSERT INTO bill_of_entry (port_code, be_no, be_date, be_type, iec, filing, filed_event_id) "
    "VALUES (:port_code, :be_no, :be_date, :be_type, :iec, CAST(:filing AS jsonb), :event_id) "
    "ON CONFLICT DO NOTHING RETURNING be_no"
)
# One statement folds an event: its history row, and the view moved to the later
# stage (never back, as `next_stage` in the domain says); a later event with no
# reasons keeps the reasons of the one that set the stage.
_FOLD = text(
    "WITH history AS ("
    " INSERT INTO bill_of_entry_history (port_code, be_no, be_date, stage, event_type, reasons)"
    " VALUES (:port_code, :be_no, :be_date, :stage, :event_type, CAST(:reasons AS jsonb)))"
    " INSERT INTO bill_of_entry_status AS s (port_code, be_no, be_date, stage, stage_rank,"
    " reasons, out_of_charge_no, gatepass_no, updated_at)"
    " VALUES (:port_code, :be_no, :be_date, :stage, :rank, CAST(:reasons AS jsonb), :ooc_no,"
    " :gatepass_no, now())"
    " ON CONFLICT (port_code, be_no, be_date) DO UPDATE SET"
    " stage = CASE WHEN EXCLUDED.stage_rank >= s.stage_rank THEN EXCLUDED.stage ELSE s.stage END,"
    " stage_rank = greatest(EXCLUDED.stage_rank, s.stage_rank),"
    " reasons = CASE WHEN EXCLUDED.stage_rank < s.stage_rank"
    " OR (EXCLUDED.stage = s.stage AND jsonb_array_length(EXCLUDED.reasons) = 0)"
    " THEN s.reasons ELSE EXCLUDED.reasons END,"
    " out_of_charge_no = coalesce(EXCLUDED.out_of_charge_no, s.out_of_charge_no),"
    " gatepass_no = coalesce(EXCLUDED.gatepass_no, s.gatepass_no),"
    " updated_at = now()"
)
_STATUS = text(
    "SELECT stage, reasons, out_of_charge_no, gatepass_no, updated_at FROM bill_of_entry_status "
    "WHERE port_code = :port_code AND be_no = :be_no AND be_date = :be_date"
)
_HISTORY = text(
    "SELECT stage, event_type, reasons, at FROM bill_of_entry_history "
    "WHERE port_code = :port_code AND be_no = :be_no AND be_date = :be_date ORDER BY id"
)


def _key(identity: Identity) -> dict[str, Any]:
    port_code, be_no, be_date = identity
    return {"port_code": port_code, "be_no": be_no, "be_date": date.fromisoformat(be_date)}


async def add_bill_of_entry(
    session: AsyncSession, identity: Identity, filing: dict[str, Any], event_id: str
) -> bool:
    """Register the BE; False if a BE of this identity is already registered."""
    result = await session.execute(
        _INSERT_BE,
        {
            **_key(identity),
            "be_type": filing["be_type"],
            "iec": filing["iec"],
            "filing": orjson.dumps(filing).decode(),
            "event_id": event_id,
        },
    )
    return result.first() is not None


def record_status(
    uow: UnitOfWork, identity: Identity, event_type: str, change: StatusChange
) -> None:
    """Fold one event into the status view and its history (deferred to the commit,
    where the batch's folds run as one executemany)."""
    uow.defer(
        _FOLD,
        {
            **_key(identity),
            "stage": change.stage,
            "rank": STAGE_RANK[change.stage],
            "event_type": event_type,
            "reasons": orjson.dumps(change.reasons).decode(),
            "ooc_no": change.out_of_charge_no,
            "gatepass_no": change.gatepass_no,
        },
    )


async def status_of(session: AsyncSession, identity: Identity) -> dict[str, Any] | None:
    key = _key(identity)
    row = (await session.execute(_STATUS, key)).first()
    if row is None:
        return None
    history = (await session.execute(_HISTORY, key)).all()
    return {
        "stage": row.stage,
        "reasons": row.reasons,
        "out_of_charge_no": row.out_of_charge_no,
        "gatepass_no": row.gatepass_no,
        "updated_at": row.updated_at,
        "history": [
            {"stage": h.stage, "event_type": h.event_type, "reasons": h.reasons, "at": h.at}
            for h in history
        ],
    }
