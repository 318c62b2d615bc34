"""SQL of bis-verifier: one verdict per BE version."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from clearance_domain import BillOfEntryRef, Identity
from clearance_domain.reasons import reasons_data
from clearance_runtime.sql import latest_versions
from clearance_runtime.unit_of_work import SqlUnitOfWork
from sqlalchemy import text

from bis_verifier.domain.verification import Verdict

_INSERT = text(
    "INSERT INTO bis_verification (port_code, be_no, be_date, version, verdict, findings) "
    "VALUES (:port_code, :be_no, :be_date, :version, :verdict, CAST(:findings AS jsonb)) "
    "ON CONFLICT DO NOTHING"
)


class SqlVerifications:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow

    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        return await latest_versions(self.uow.session, "bis_verification", identities)

    def add(self, ref: BillOfEntryRef, verdict: Verdict) -> None:
        self.uow.defer(
            _INSERT,
            {
                "port_code": ref.port_code,
                "be_no": ref.be_no,
                "be_date": ref.be_date,
                "version": ref.version,
                "verdict": verdict.verdict,
                "findings": orjson.dumps(reasons_data(list(verdict.findings))).decode(),
            },
        )
