"""SQL of ooc-issuer: one row of facts per BE, merged and decided per batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from clearance_contracts import bill_of_entry_key
from clearance_runtime.unit_of_work import UnitOfWork
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

Ref = dict[str, str]

_MERGE_FACTS = text(
    "INSERT INTO clearance_case (port_code, be_no, be_date, facts) "
    "VALUES (:port_code, :be_no, :be_date, CAST(:facts AS jsonb)) "
    "ON CONFLICT (port_code, be_no, be_date) "
    "DO UPDATE SET facts = clearance_case.facts || EXCLUDED.facts"
)
_KEYS = "unnest(CAST(:port_codes AS text[]), CAST(:be_nos AS text[]), CAST(:be_dates AS date[]))"
# Locked, so a BE is decided once even if another transaction touches it.
_UNDECIDED = text(
    "SELECT c.port_code, c.be_no, c.be_date, c.facts FROM clearance_case c "
    f"JOIN {_KEYS} AS k(port_code, be_no, be_date) USING (port_code, be_no, be_date) "
    "WHERE c.decision IS NULL FOR UPDATE OF c"
)
_DECIDE = text(
    "UPDATE clearance_case c SET decision = d.decision, reasons = CAST(d.reasons AS jsonb), "
    "decided_at = now(), "
    "out_of_charge_no = CASE WHEN d.issue THEN c.port_code || '-OOC-' || "
    "lpad(nextval('out_of_charge_no_seq')::text, 9, '0') END, "
    "gatepass_no = CASE WHEN d.issue THEN c.port_code || '-GP-' || "
    "lpad(nextval('gatepass_no_seq')::text, 9, '0') END "
    "FROM unnest(CAST(:port_codes AS text[]), CAST(:be_nos AS text[]), "
    "CAST(:be_dates AS date[]), CAST(:decisions AS text[]), CAST(:reasons AS text[]), "
    "CAST(:issues AS boolean[])) AS d(port_code, be_no, be_date, decision, reasons, issue) "
    "WHERE c.port_code = d.port_code AND c.be_no = d.be_no AND c.be_date = d.be_date "
    "AND c.decision IS NULL "
    "RETURNING c.port_code, c.be_no, c.be_date, c.out_of_charge_no, c.gatepass_no"
)


def _keys(refs: Sequence[Ref]) -> dict[str, list[Any]]:
    return {
        "port_codes": [ref["port_code"] for ref in refs],
        "be_nos": [ref["be_no"] for ref in refs],
        "be_dates": [date.fromisoformat(ref["be_date"]) for ref in refs],
    }


def merge_facts(uow: UnitOfWork, ref: Ref, facts: dict[str, Any]) -> None:
    """Add facts to the BE's case (at commit, batched, in arrival order)."""
    uow.defer(
        _MERGE_FACTS,
        {
            **ref,
            "be_date": date.fromisoformat(ref["be_date"]),
            "facts": orjson.dumps(facts).decode(),
        },
    )


def _ref_of(row: Any) -> Ref:
    return {"port_code": row.port_code, "be_no": row.be_no, "be_date": row.be_date.isoformat()}


async def undecided_cases(
    session: AsyncSession, refs: Sequence[Ref]
) -> list[tuple[Ref, dict[str, Any]]]:
    """The facts of those BEs not yet decided, locked until commit."""
    rows = await session.execute(_UNDECIDED, _keys(refs))
    return [
        (_ref_of(row), row.facts if isinstance(row.facts, dict) else orjson.loads(row.facts))
        for row in rows
    ]


async def record_decisions(
    session: AsyncSession, decisions: Sequence[tuple[Ref, bool, list[dict[str, Any]]]]
) -> dict[str, tuple[str | None, str | None]]:
    """Decide each BE once (ref, issue, reasons); return, by BE key, the OOC and
    gatepass numbers."""
    if not decisions:
        return {}
    params = _keys([ref for ref, _, _ in decisions]) | {
        "decisions": ["out_of_charge" if issue else "held" for _, issue, _ in decisions],
        "reasons": [orjson.dumps(reasons).decode() for _, _, reasons in decisions],
        "issues": [issue for _, issue, _ in decisions],
    }
    rows = await session.execute(_DECIDE, params)
    return {
        bill_of_entry_key(**_ref_of(row)): (row.out_of_charge_no, row.gatepass_no) for row in rows
    }
