"""What ooc-issuer's handlers may touch in one transaction, and the ports they are given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from clearance_domain import BillOfEntryRef
from clearance_runtime.unit_of_work import UnitOfWork

from ooc_issuer.domain.case import ClearanceCase

Identity = tuple[str, str, date]


class ClearanceCases(Protocol):
    async def for_update(self, identities: Sequence[Identity]) -> dict[Identity, ClearanceCase]:
        """The cases of these BEs (new ones for BEs never seen), locked until commit."""
        ...

    def save(self, case: ClearanceCase) -> None:
        """Write the case at commit."""
        ...

    async def numbers(self, port_codes: Sequence[str]) -> list[tuple[str, str]]:
        """A fresh (OOC number, gatepass number) per custom house given, never reused."""
        ...


class BillOfEntryCopies(Protocol):
    def keep(self, ref: BillOfEntryRef, bill_of_entry: Mapping[str, Any]) -> None:
        """Keep the registered BE version as filed: the e-OOC is its final copy (OOC-EOOC-1)."""
        ...


@dataclass(frozen=True, slots=True)
class Notification:
    """An e-Gatepass in a custodian's mailbox: pushed if it registered a callback, else
    (and always, until acknowledged) there to pull."""

    custodian_code: str
    gatepass_no: str
    ref: BillOfEntryRef
    payload: Mapping[str, Any]


class CustodianMailboxes(Protocol):
    async def with_callback(self, custodian_codes: Sequence[str]) -> set[str]:
        """Which of these custodians registered a (verified) callback for push delivery."""
        ...

    def file(self, notification: Notification) -> None:
        """Put the e-Gatepass in the custodian's mailbox at commit."""
        ...


class OocUnitOfWork(UnitOfWork, Protocol):
    @property
    def cases(self) -> ClearanceCases: ...

    @property
    def copies(self) -> BillOfEntryCopies: ...

    @property
    def mailboxes(self) -> CustodianMailboxes: ...


class DocumentSigner(Protocol):
    """Signs the e-OOC's QR payload (OOC-EOOC-1) with the key in use."""

    @property
    def key_id(self) -> str: ...

    def sign(self, claims: Mapping[str, Any]) -> str:
        """A compact JWS of the claims, its header naming the key id."""
        ...
