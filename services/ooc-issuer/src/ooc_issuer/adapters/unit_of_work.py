"""ooc-issuer's unit of work on PostgreSQL: the runtime's, with ooc-issuer's repositories."""

from __future__ import annotations

from typing import Any

from clearance_runtime.unit_of_work import SqlUnitOfWork

from ooc_issuer.adapters.repository import (
    SqlBillOfEntryCopies,
    SqlClearanceCases,
    SqlCustodianMailboxes,
)


class SqlOocUnitOfWork(SqlUnitOfWork):
    def __init__(self, *args: Any) -> None:  # the runtime's arguments
        super().__init__(*args)
        self.cases = SqlClearanceCases(self)
        self.copies = SqlBillOfEntryCopies(self)
        self.mailboxes = SqlCustodianMailboxes(self)
