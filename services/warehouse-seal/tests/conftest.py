"""In-memory fakes of warehouse-seal's ports, for handler tests without servers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.testing import FakeUnitOfWork
from warehouse_seal.domain.seals import Reconciliation


class FakeReconciliations:
    def __init__(self) -> None:
        self.rows: dict[BillOfEntryRef, Reconciliation] = {}

    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        latest: dict[Identity, int] = {}
        for ref in self.rows:
            if ref.identity in identities:
                latest[ref.identity] = max(latest.get(ref.identity, 0), ref.version)
        return latest

    def add(self, ref: BillOfEntryRef, reconciliation: Reconciliation) -> None:
        self.rows.setdefault(ref, reconciliation)


class FakeSealUnitOfWork(FakeUnitOfWork):
    def __init__(self, reconciliations: FakeReconciliations) -> None:
        super().__init__()
        self.reconciliations = reconciliations


@pytest.fixture
def reconciliations() -> FakeReconciliations:
    return FakeReconciliations()


@pytest.fixture
def new_uow(reconciliations: FakeReconciliations) -> Callable[[], FakeSealUnitOfWork]:
    return lambda: FakeSealUnitOfWork(reconciliations)
