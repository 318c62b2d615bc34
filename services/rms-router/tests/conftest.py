"""In-memory fakes of rms-router's ports, for handler tests without servers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.testing import FakeUnitOfWork
from rms_router.domain.routing import RmsDecision


class FakeDecisions:
    def __init__(self) -> None:
        self.rows: dict[BillOfEntryRef, RmsDecision] = {}
        self.queue: list[BillOfEntryRef] = []

    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        latest: dict[Identity, int] = {}
        for ref in self.rows:
            if ref.identity in identities:
                latest[ref.identity] = max(latest.get(ref.identity, 0), ref.version)
        return latest

    def add(self, ref: BillOfEntryRef, decision: RmsDecision) -> None:
        self.rows.setdefault(ref, decision)
        if decision.queued_for_examination:
            self.queue = [r for r in self.queue if r.identity != ref.identity] + [ref]


class FakeRmsUnitOfWork(FakeUnitOfWork):
    def __init__(self, decisions: FakeDecisions) -> None:
        super().__init__()
        self.decisions = decisions


@pytest.fixture
def decisions() -> FakeDecisions:
    return FakeDecisions()


@pytest.fixture
def new_uow(decisions: FakeDecisions) -> Callable[[], FakeRmsUnitOfWork]:
    return lambda: FakeRmsUnitOfWork(decisions)
