"""SQL of ooc-issuer: one row of facts per BE, merged under a row lock."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The upsert locks the row, so facts arriving concurrently from different
# topics are merged one after the other and the last sees them all.
_MERGE_FACTS = text(
    "INSERT INTO clearance_case (port_code, be_no, be_date, facts) "
    "VALUES (:port_code, :be_no, :be_date, CAST(:facts AS jsonb)) "
    "ON CONFLICT (port_code, be_no, be_date) "
    "DO UPDATE SET facts = clearance_case.facts || EXCLUDED.facts "
    "RETURNING facts, decision"
)
_DECIDE = text(
    "UPDATE clearance_case SET decision = :decision, reasons = CAST(:reasons AS jsonb), "
    "decided_at = now(), "
    "out_of_charge_no = CASE WHEN :issue THEN :port_code || '-OOC-' || "
    "lpad(nextval('out_of_charge_no_seq')::text, 9, '0') END, "
    "gatepass_no = CASE WHEN :issue THEN :port_code || '-GP-' || "
    "lpad(nextval('gatepass_no_seq')::text, 9, '0') END "
    "WHERE port_code = :port_code AND be_no = :be_no AND be_date = :be_date "
    "AND decision IS NULL RETURNING out_of_charge_no, gatepass_no"
)


def _key(ref: dict[str, str]) -> dict[str, Any]:
    return {**ref, "be_date": date.fromisoformat(ref["be_date"])}


async def merge_facts(
    session: AsyncSession, ref: dict[str, str], facts: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """Add facts to the BE's case; return all its facts and any decision taken."""
    row = (
        await session.execute(_MERGE_FACTS, {**_key(ref), "facts": orjson.dumps(facts).decode()})
    ).one()
    merged = row.facts if isinstance(row.facts, dict) else orjson.loads(row.facts)
    return merged, row.decision


async def record_decision(
    session: AsyncSession, ref: dict[str, str], issue: bool, reasons: list[dict[str, Any]]
) -> tuple[str | None, str | None] | None:
    """Decide once; return (OOC number, gatepass number), or None if decided before."""
    row = (
        await session.execute(
            _DECIDE,
            {
                **_key(ref),
                "decision": "out_of_charge" if issue else "held",
                "reasons": orjson.dumps(reasons).decode(),
                "issue": issue,
            },
        )
    ).first()
    return None if row is None else (row.out_of_charge_no, row.gatepass_no)
