"""warehouse-seal's unit of work on PostgreSQL: the runtime's, with its seal records."""

from __future__ import annotations

from typing import Any

from clearance_runtime.unit_of_work import SqlUnitOfWork

from warehouse_seal.adapters.repository import SqlSealRecords


class SqlSealUnitOfWork(SqlUnitOfWork):
    def __init__(self, *args: Any) -> None:  # the runtime's arguments
        super().__init__(*args)
        self.seals = SqlSealRecords(self)
