"""be-intake's unit of work on PostgreSQL: the runtime's, with its repositories."""

from __future__ import annotations

from typing import Any

from clearance_runtime.unit_of_work import SqlUnitOfWork

from be_intake.adapters.repository import SqlIntake


class SqlIntakeUnitOfWork(SqlUnitOfWork):
    def __init__(self, *args: Any) -> None:  # the runtime's arguments
        super().__init__(*args)
        self.intake = SqlIntake(self)
