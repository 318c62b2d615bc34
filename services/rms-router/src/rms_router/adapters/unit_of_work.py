"""rms-router's unit of work on PostgreSQL: the runtime's, with its repositories."""

from __future__ import annotations

from typing import Any

from clearance_runtime.unit_of_work import SqlUnitOfWork

from rms_router.adapters.repository import (
    SqlAudit,
    SqlBills,
    SqlDecisions,
    SqlImporters,
    SqlRoutingPublications,
    SqlTasks,
)


class SqlRmsUnitOfWork(SqlUnitOfWork):
    def __init__(self, *args: Any) -> None:  # the runtime's arguments
        super().__init__(*args)
        self.bills = SqlBills(self)
        self.decisions = SqlDecisions(self)
        self.tasks = SqlTasks(self)
        self.importers = SqlImporters(self)
        self.audit = SqlAudit(self)
        self.routing = SqlRoutingPublications(self)
