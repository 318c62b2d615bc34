"""warehouse-seal's unit of work on PostgreSQL: the runtime's, with its reconciliations."""

from __future__ import annotations

from typing import Any

from clearance_runtime.unit_of_work import SqlUnitOfWork

from warehouse_seal.adapters.repository import SqlReconciliations


class SqlSealUnitOfWork(SqlUnitOfWork):
    def __init__(self, *args: Any) -> None:  # the runtime's arguments
        super().__init__(*args)
        self.reconciliations = SqlReconciliations(self)
