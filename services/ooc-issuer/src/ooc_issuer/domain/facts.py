"""The facts ooc-issuer joins per BE version, as typed values (pure).

Each comes from the service that owns it: the registered BE (be-intake, carried
on the BIS verdict), the BIS verdict (bis-verifier), the RMS decision
(rms-router) and, for warehousing BEs, the seal reconciliation (warehouse-seal).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from clearance_domain import AeoTier, BeType, BillOfEntryRef, Reason


@dataclass(frozen=True, slots=True)
class GatepassContainer:
    container_no: str
    seal_no: str


@dataclass(frozen=True, slots=True)
class Registered:
    """What the release needs of the registered BE."""

    ref: BillOfEntryRef
    be_type: BeType
    iec: str
    importer_name: str
    aeo_tier: AeoTier | None
    warehouse_code: str | None
    containers: tuple[GatepassContainer, ...]
    duty_claimed_paid: bool
    duty_claimed_deferred_otp: bool


class BisOutcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    CONDITIONAL = "conditional"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class BisVerdict:
    ref: BillOfEntryRef
    verdict: BisOutcome
    findings: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class RmsDecision:
    ref: BillOfEntryRef
    outcome: str  # facilitated | assessment | examination | scanning | pga_noc
    reasons: tuple[Reason, ...]

    @property
    def facilitated(self) -> bool:
        return self.outcome == "facilitated"


@dataclass(frozen=True, slots=True)
class SealReconciliation:
    ref: BillOfEntryRef
    outcome: str  # matched | mismatched | tampered | delayed | exempt
    findings: tuple[Reason, ...]

    @property
    def matched(self) -> bool:
        return self.outcome in ("matched", "exempt")


Fact = Registered | BisVerdict | RmsDecision | SealReconciliation
