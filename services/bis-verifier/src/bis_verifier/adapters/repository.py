"""SQL of bis-verifier."""

from __future__ import annotations

from datetime import date

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bis_verifier.domain.verification import Verdict

_INSERT = text(
    "INSERT INTO bis_verification (port_code, be_no, be_date, verdict, findings) "
    "VALUES (:port_code, :be_no, :be_date, :verdict, CAST(:findings AS jsonb)) "
    "ON CONFLICT DO NOTHING RETURNING verdict"
)


async def add_verification(
    session: AsyncSession, port_code: str, be_no: str, be_date: str, verdict: Verdict
) -> bool:
    """Record the verdict; False if this BE was already verified."""
    result = await session.execute(
        _INSERT,
        {
            "port_code": port_code,
            "be_no": be_no,
            "be_date": date.fromisoformat(be_date),
            "verdict": verdict.verdict,
            "findings": orjson.dumps(verdict.findings).decode(),
        },
    )
    return result.first() is not None
