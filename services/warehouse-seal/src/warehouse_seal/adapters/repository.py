"""SQL of warehouse-seal."""

from __future__ import annotations

from datetime import date

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from warehouse_seal.domain.seals import Reconciliation

_INSERT = text(
    "INSERT INTO seal_reconciliation "
    "(port_code, be_no, be_date, outcome, warehouse_code, seal_numbers, findings) "
    "VALUES (:port_code, :be_no, :be_date, :outcome, :warehouse_code, "
    "CAST(:seal_numbers AS jsonb), CAST(:findings AS jsonb)) "
    "ON CONFLICT DO NOTHING RETURNING outcome"
)


async def add_reconciliation(
    session: AsyncSession, ref: dict[str, str], reconciliation: Reconciliation
) -> bool:
    """Record the reconciliation; False if this BE was already reconciled."""
    result = await session.execute(
        _INSERT,
        {
            **ref,
            "be_date": date.fromisoformat(ref["be_date"]),
            "outcome": reconciliation.outcome,
            "warehouse_code": reconciliation.warehouse_code,
            "seal_numbers": orjson.dumps(reconciliation.seal_numbers).decode(),
            "findings": orjson.dumps(reconciliation.findings).decode(),
        },
    )
    return result.first() is not None
