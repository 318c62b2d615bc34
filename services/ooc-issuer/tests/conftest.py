"""In-memory fakes of ooc-issuer's ports, for handler tests without servers."""

from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from clearance_domain import BillOfEntryRef
from clearance_runtime.testing import FakeUnitOfWork
from ooc_issuer.adapters.signing import DocumentSigner, new_key_set
from ooc_issuer.domain.case import ClearanceCase
from ooc_issuer.service_layer.handlers import render_events
from ooc_issuer.service_layer.unit_of_work import Identity, Notification

sys.path.insert(0, str(Path(__file__).parent))  # ooc_builders: contract-shaped facts


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


class FakeCopies:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], Mapping[str, Any]] = {}

    def keep(self, ref: BillOfEntryRef, bill_of_entry: Mapping[str, Any]) -> None:
        self.rows.setdefault((ref.key, ref.version), bill_of_entry)


class FakeMailboxes:
    def __init__(self) -> None:
        self.callbacks: set[str] = set()
        self.filed: list[Notification] = []

    async def with_callback(self, custodian_codes: Sequence[str]) -> set[str]:
        return set(custodian_codes) & self.callbacks

    def file(self, notification: Notification) -> None:
        self.filed.append(notification)


class FakeOocUnitOfWork(FakeUnitOfWork):
    def __init__(
        self, cases: FakeClearanceCases, copies: FakeCopies, mailboxes: FakeMailboxes
    ) -> None:
        super().__init__(render_events=render_events)
        self.cases = cases
        self.copies = copies
        self.mailboxes = mailboxes


@pytest.fixture(scope="session")
def signer() -> DocumentSigner:
    return DocumentSigner(new_key_set("test-key-1"))


@pytest.fixture
def cases() -> FakeClearanceCases:
    return FakeClearanceCases()


@pytest.fixture
def mailboxes() -> FakeMailboxes:
    return FakeMailboxes()


@pytest.fixture
def new_uow(cases: FakeClearanceCases, mailboxes: FakeMailboxes) -> Callable[[], FakeOocUnitOfWork]:
    """A fresh unit of work per transaction, over the same stored cases."""
    copies = FakeCopies()
    return lambda: FakeOocUnitOfWork(cases, copies, mailboxes)
