"""What warehouse-seal's handlers may touch in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.unit_of_work import UnitOfWork

from warehouse_seal.domain.seals import Reconciliation


class Reconciliations(Protocol):
    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        """The newest version reconciled of each BE that has one."""
        ...

    def add(self, ref: BillOfEntryRef, reconciliation: Reconciliation) -> None:
        """Record the reconciliation of this version (at commit)."""
        ...


class SealUnitOfWork(UnitOfWork, Protocol):
    @property
    def reconciliations(self) -> Reconciliations: ...
