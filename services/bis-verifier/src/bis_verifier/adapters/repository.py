"""SQL of bis-verifier."""

from __future__ import annotations

from datetime import date

import orjson
from clearance_runtime.unit_of_work import UnitOfWork
from sqlalchemy import text

from bis_verifier.domain.verification import Verdict

_INSERT = text(
    "INSERT INTO bis_verification (port_code, be_no, be_date, verdict, findings) "
    "VALUES (:port_code, :be_no, :be_date, :verdict, CAST(:findings AS jsonb)) "
    "ON CONFLICT DO NOTHING"
)


def add_verification(
    uow: UnitOfWork, port_code: str, be_no: str, be_date: str, verdict: Verdict
) -> None:
    """Record the verdict (at commit, batched); a BE verified before keeps its first."""
    uow.defer(
        _INSERT,
        {
            "port_code": port_code,
            "be_no": be_no,
            "be_date": date.fromisoformat(be_date),
            "verdict": verdict.verdict,
            "findings": orjson.dumps(verdict.findings).decode(),
        },
    )
