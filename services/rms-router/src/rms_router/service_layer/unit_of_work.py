"""What rms-router's handlers may touch in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.unit_of_work import UnitOfWork

from rms_router.domain.routing import RmsDecision


class Decisions(Protocol):
    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        """The newest version decided of each BE that has one."""
        ...

    def add(self, ref: BillOfEntryRef, decision: RmsDecision) -> None:
        """Record the decision on this version and queue the BE if examined (at commit)."""
        ...


class RmsUnitOfWork(UnitOfWork, Protocol):
    @property
    def decisions(self) -> Decisions: ...
