"""What bis-verifier's handlers may touch in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.unit_of_work import UnitOfWork

from bis_verifier.domain.verification import Verdict


class Verifications(Protocol):
    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        """The newest version verified of each BE that has one."""
        ...

    def add(self, ref: BillOfEntryRef, verdict: Verdict) -> None:
        """Record the verdict on this version (at commit)."""
        ...


class BisUnitOfWork(UnitOfWork, Protocol):
    @property
    def verifications(self) -> Verifications: ...
