"""rms-router's file on one BE (pure): what it has learnt per version, and when a
version is ready for its decision.

A decision needs, for the same version, the registered BE (from be-intake: the
AEO certificate, the amendment) and the BIS verdict (from bis-verifier, which
carries the BE). They arrive in any order; a version is decided once both are
in, unless a newer version is already known (registered or decided): a stale
version is dropped, never decided (per-version decisions, as VersionGate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from clearance_domain import BillOfEntryRef, Identity

REGISTERED, VERIFIED = "registered", "bis"


@dataclass
class BillFile:
    identity: Identity
    iec: str | None = None
    registered_version: int = 0  # the newest version registered
    decided_version: int = 0  # the newest version decided
    assessment_group: str | None = None  # of the newest decision
    # Per version still undecided: {"registered": part, "bis": part, "bill_of_entry": data}.
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    tampered_at_export: dict[str, Any] | None = None  # SEAL-TAMPER-1 alert, as raised
    invalidated_at: datetime | None = None

    @property
    def newest_known(self) -> int:
        return max(self.registered_version, self.decided_version)

    def ref(self, version: int) -> BillOfEntryRef:
        port_code, be_no, be_date = self.identity
        return BillOfEntryRef(port_code, be_no, be_date, version)

    def learn(self, version: int, part: str, data: dict[str, Any]) -> bool:
        """Keep a part of a version; False when the version is stale or the BE invalidated."""
        if self.invalidated_at is not None or version <= self.decided_version:
            return False
        if version < self.registered_version:
            return False
        if part == REGISTERED:
            self.registered_version = max(self.registered_version, version)
            self._drop_older_than(version)
        self.pending.setdefault(version, {}).update(data)
        return True

    def ready(self) -> list[int]:
        """Versions with both parts and nothing newer known (oldest first; at most one)."""
        return [
            version
            for version, parts in sorted(self.pending.items())
            if REGISTERED in parts
            and VERIFIED in parts
            and version >= self.newest_known
            and self.invalidated_at is None
        ]

    def decided(self, version: int, assessment_group: str | None) -> None:
        self.decided_version = version
        self.assessment_group = assessment_group
        self._drop_older_than(version + 1)

    def invalidate(self, at: datetime) -> None:
        self.invalidated_at = at
        self.pending.clear()

    def _drop_older_than(self, version: int) -> None:
        for stale in [v for v in self.pending if v < version]:
            del self.pending[stale]


def identity_of(data: dict[str, Any]) -> Identity:
    """The identity of a contract `bill_of_entry_ref`."""
    return (str(data["port_code"]), str(data["be_no"]), date.fromisoformat(str(data["be_date"])))
