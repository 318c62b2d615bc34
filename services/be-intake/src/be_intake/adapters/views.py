"""Reads of be-intake's status view for the HTTP API (no unit of work: read only)."""

from __future__ import annotations

from typing import Any

from clearance_domain import Identity
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_KEY = "port_code = :port_code AND be_no = :be_no AND be_date = :be_date"
_STATUS = text(
    "SELECT version, stage, reasons, out_of_charge_no, gatepass_no, updated_at "
    f"FROM bill_of_entry_status WHERE {_KEY}"
)
_HISTORY = text(
    f"SELECT version, stage, event_type, reasons, at FROM bill_of_entry_history WHERE {_KEY} "
    "ORDER BY id"
)
_DEAD_LETTERS = text(
    "SELECT consumer, event_type, reason, dead_lettered_at, resolved_at IS NOT NULL AS resolved "
    f"FROM dead_letter WHERE {_KEY} ORDER BY dead_lettered_at"
)
_FILER = text(
    "SELECT filing->>'customs_broker_code' AS cb_code, iec FROM bill_of_entry "
    f"WHERE {_KEY} ORDER BY version DESC LIMIT 1"
)
_STUCK = text(
    "SELECT count(*) FROM (SELECT DISTINCT port_code, be_no, be_date FROM dead_letter "
    "WHERE resolved_at IS NULL) AS stuck"
)


async def status_of(session: AsyncSession, identity: Identity) -> dict[str, Any] | None:
    port_code, be_no, be_date = identity
    key = {"port_code": port_code, "be_no": be_no, "be_date": be_date}
    row = (await session.execute(_STATUS, key)).first()
    if row is None:
        return None
    history = (await session.execute(_HISTORY, key)).all()
    dead_letters = [dict(r._mapping) for r in await session.execute(_DEAD_LETTERS, key)]
    return {
        "version": row.version,
        "stage": row.stage,
        "reasons": row.reasons,
        "out_of_charge_no": row.out_of_charge_no,
        "gatepass_no": row.gatepass_no,
        "updated_at": row.updated_at,
        "history": [dict(h._mapping) for h in history],
        "stuck": any(not letter["resolved"] for letter in dead_letters),
        "dead_letters": dead_letters,
    }


async def filer_of(session: AsyncSession, identity: Identity) -> tuple[str | None, str | None]:
    """(customs broker code, IEC) of a registered BE, to check a filer's scope; (None, None)
    when no filing of this identity was registered."""
    port_code, be_no, be_date = identity
    key = {"port_code": port_code, "be_no": be_no, "be_date": be_date}
    row = (await session.execute(_FILER, key)).first()
    return (row.cb_code, row.iec) if row is not None else (None, None)


async def stuck_count(session: AsyncSession) -> int:
    """How many BEs have a dead letter not yet resolved."""
    return int((await session.execute(_STUCK)).scalar_one())
