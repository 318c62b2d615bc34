"""What bis-verifier's handlers and its verification worker may touch in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from clearance_domain import BillOfEntryRef, Identity
from clearance_runtime.unit_of_work import UnitOfWork

from bis_verifier.domain.registry import Lookup
from bis_verifier.domain.sampling import SampleCase
from bis_verifier.domain.verification import Verdict


@dataclass(frozen=True, slots=True)
class PendingVerification:
    """A BE version waiting for the registry, as the worker claimed it."""

    id: int
    ref: BillOfEntryRef
    bill_of_entry: dict[str, Any]
    lookups: tuple[Lookup, ...]
    attempt: int  # this attempt's number
    pending_since: datetime
    announced: bool  # the pending event was published
    carrier: Mapping[str, str] = field(default_factory=dict)  # the registration's trace


class Verifications(Protocol):
    async def latest_versions(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        """The newest version verified of each BE that has one."""
        ...

    def add(self, ref: BillOfEntryRef, verdict: Verdict) -> None:
        """Record the verdict on this version (at commit)."""
        ...


class PendingVerifications(Protocol):
    def park(
        self,
        ref: BillOfEntryRef,
        bill_of_entry: dict[str, Any],
        lookups: Sequence[Lookup],
        at: datetime,
        carrier: Mapping[str, str],
    ) -> None:
        """The version waits for the registry; the worker is woken at commit."""
        ...

    def supersede(self, ref: BillOfEntryRef) -> None:
        """Older versions of the BE wait no more: this one is decided."""
        ...

    async def still_ours(self, claims: Sequence[PendingVerification]) -> set[int]:
        """Lock the claimed rows still pending under this claim (lease not lost)."""
        ...

    def finish(self, claim: PendingVerification, at: datetime) -> None: ...

    def retry(
        self, claim: PendingVerification, next_at: datetime, error: str, announced: bool
    ) -> None: ...


class Samples(Protocol):
    async def get(self, identity: Identity) -> SampleCase | None: ...

    def save(self, case: SampleCase) -> None: ...


class BisUnitOfWork(UnitOfWork, Protocol):
    @property
    def verifications(self) -> Verifications: ...

    @property
    def waiting(self) -> PendingVerifications: ...

    @property
    def samples(self) -> Samples: ...
