"""What ooc-issuer's handlers may touch in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

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


class OocUnitOfWork(UnitOfWork, Protocol):
    @property
    def cases(self) -> ClearanceCases: ...
