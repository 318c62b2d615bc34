"""In-memory fakes of ooc-issuer's ports, for handler tests without servers."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence

import pytest
from clearance_runtime.testing import FakeUnitOfWork
from ooc_issuer.domain.case import ClearanceCase
from ooc_issuer.service_layer.handlers import render_events
from ooc_issuer.service_layer.unit_of_work import Identity


class FakeClearanceCases:
    """Cases kept in a dict; what a test reads back is what was saved, as stored."""

    def __init__(self) -> None:
        self.rows: dict[Identity, ClearanceCase] = {}
        self.issued = 0

    async def for_update(self, identities: Sequence[Identity]) -> dict[Identity, ClearanceCase]:
        return {
            i: copy.deepcopy(self.rows[i]) if i in self.rows else ClearanceCase(*i)
            for i in identities
        }

    def save(self, case: ClearanceCase) -> None:
        stored = dataclasses.replace(case, events=[])
        self.rows[(case.port_code, case.be_no, case.be_date)] = copy.deepcopy(stored)

    async def numbers(self, port_codes: Sequence[str]) -> list[tuple[str, str]]:
        numbers = []
        for port_code in port_codes:
            self.issued += 1
            numbers.append(
                (f"{port_code}-OOC-{self.issued:09d}", f"{port_code}-GP-{self.issued:09d}")
            )
        return numbers


class FakeOocUnitOfWork(FakeUnitOfWork):
    def __init__(self, cases: FakeClearanceCases) -> None:
        super().__init__(render_events=render_events)
        self.cases = cases


@pytest.fixture
def cases() -> FakeClearanceCases:
    return FakeClearanceCases()


@pytest.fixture
def new_uow(cases: FakeClearanceCases) -> Callable[[], FakeOocUnitOfWork]:
    """A fresh unit of work per transaction, over the same stored cases."""
    return lambda: FakeOocUnitOfWork(cases)
