"""In-memory fakes of bis-verifier's ports, for handler tests without servers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from bis_verifier.domain.verification import Verdict
from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.testing import FakeUnitOfWork


class FakeVerifications:
    def __init__(self) -> None:
        self.rows: dict[BillOfEntryRef, Verdict] = {}

    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        latest: dict[Identity, int] = {}
        for ref in self.rows:
            if ref.identity in identities:
                latest[ref.identity] = max(latest.get(ref.identity, 0), ref.version)
        return latest

    def add(self, ref: BillOfEntryRef, verdict: Verdict) -> None:
        self.rows.setdefault(ref, verdict)


class FakeBisUnitOfWork(FakeUnitOfWork):
    def __init__(self, verifications: FakeVerifications) -> None:
        super().__init__()
        self.verifications = verifications


@pytest.fixture
def verifications() -> FakeVerifications:
    return FakeVerifications()


@pytest.fixture
def new_uow(verifications: FakeVerifications) -> Callable[[], FakeBisUnitOfWork]:
    return lambda: FakeBisUnitOfWork(verifications)
