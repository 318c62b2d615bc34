"""bis-verifier's unit of work on PostgreSQL: the runtime's, with its repositories."""

from __future__ import annotations

from typing import Any

from clearance_runtime.unit_of_work import SqlUnitOfWork

from bis_verifier.adapters.repository import SqlPendingVerifications, SqlSamples, SqlVerifications


class SqlBisUnitOfWork(SqlUnitOfWork):
    def __init__(self, *args: Any) -> None:  # the runtime's arguments
        super().__init__(*args)
        self.verifications = SqlVerifications(self)
        self.waiting = SqlPendingVerifications(self)
        self.samples = SqlSamples(self)
