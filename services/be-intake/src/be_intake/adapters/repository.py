"""SQL of be-intake: registered Bills of Entry and the status view."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from be_intake.domain.status import StatusChange, next_stage

Identity = tuple[str, str, str]

_INSERT_BE = text(
    "INSERT INTO bill_of_entry (port_code, be_no, be_date, be_type, iec, filing, filed_event_id) "
    "VALUES (:port_code, :be_no, :be_date, :be_type, :iec, CAST(:filing AS jsonb), :event_id) "
    "ON CONFLICT DO NOTHING RETURNING be_no"
)
_CURRENT_STATUS = text(
    "SELECT stage, reasons FROM bill_of_entry_status "
    "WHERE port_code = :port_code AND be_no = :be_no AND be_date = :be_date FOR UPDATE"
)
_UPSERT_STATUS = text(
    "INSERT INTO bill_of_entry_status "
    "(port_code, be_no, be_date, stage, reasons, out_of_charge_no, gatepass_no, updated_at) "
    "VALUES (:port_code, :be_no, :be_date, :stage, CAST(:reasons AS jsonb), :ooc_no, "
    ":gatepass_no, now()) "
    "ON CONFLICT (port_code, be_no, be_date) DO UPDATE SET stage = EXCLUDED.stage, "
    "reasons = EXCLUDED.reasons, "
    "out_of_charge_no = coalesce(EXCLUDED.out_of_charge_no, bill_of_entry_status.out_of_charge_no),"
    " gatepass_no = coalesce(EXCLUDED.gatepass_no, bill_of_entry_status.gatepass_no), "
    "updated_at = now()"
)
_INSERT_HISTORY = text(
    "INSERT INTO bill_of_entry_history (port_code, be_no, be_date, stage, event_type, reasons) "
    "VALUES (:port_code, :be_no, :be_date, :stage, :event_type, CAST(:reasons AS jsonb))"
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


async def record_status(
    session: AsyncSession, identity: Identity, event_type: str, change: StatusChange
) -> None:
    """Fold one event into the status view and its history."""
    key = _key(identity)
    current = (await session.execute(_CURRENT_STATUS, key)).first()
    stage = next_stage(current.stage if current else None, change.stage)
    shown = _shown_reasons(current, stage, change)
    reasons = orjson.dumps(change.reasons).decode()
    await session.execute(
        _UPSERT_STATUS,
        {
            **key,
            "stage": stage,
            "reasons": orjson.dumps(shown).decode(),
            "ooc_no": change.out_of_charge_no,
            "gatepass_no": change.gatepass_no,
        },
    )
    await session.execute(
        _INSERT_HISTORY,
        {**key, "stage": change.stage, "event_type": event_type, "reasons": reasons},
    )


def _shown_reasons(current: Any, stage: str, change: StatusChange) -> list[dict[str, Any]]:
    """The reasons of the event that set the stage; a later event with none keeps them."""
    if current is None:
        return change.reasons
    if stage != change.stage or (stage == current.stage and not change.reasons):
        return list(current.reasons)
    return change.reasons


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
