"""The facts ooc-issuer joins per BE, as typed values (pure).

Each comes from the party that owns it, never from the filer's claims: the registered BE
with the AEO certificate found in the AEO directory and the amendment it registers
(be-intake), the BIS verdict and the laboratory result of samples (bis-verifier), the RMS
decision, the assessment, the examination and partner agencies' NOCs (rms-router), duty
payments as the bank or ledger reported them (be-intake), the seal reconciliation of a
warehousing BE (warehouse-seal), the BE's invalidation (be-intake) and the goods' exit at
the custodian's gate (custodians).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from clearance_domain import AeoTier, BeType, BillOfEntryRef, Reason


@dataclass(frozen=True, slots=True)
class Officer:
    officer_id: str
    location: str


@dataclass(frozen=True, slots=True)
class GatepassContainer:
    container_no: str
    seal_no: str


@dataclass(frozen=True, slots=True)
class AeoCertificate:
    """An AEO certificate from the AEO directory (found by be-intake for the BE date)."""

    certificate_no: str
    iec: str
    tier: str  # T1 | T2 | T3 | LO
    valid_from: date
    valid_to: date

    def problem(self, iec: str, on: date) -> str | None:
        """Why it does not allow automatic OOC for `iec` on `on` (OOC-AUTO-1), or None."""
        if self.tier not in (AeoTier.T2.value, AeoTier.T3.value):
            return f"AEO certificate {self.certificate_no} is tier {self.tier}"
        if self.iec != iec:
            return f"AEO certificate {self.certificate_no} belongs to IEC {self.iec}, not {iec}"
        if not self.valid_from <= on <= self.valid_to:
            return (
                f"AEO certificate {self.certificate_no} is valid {self.valid_from} to "
                f"{self.valid_to}, not on the BE date {on}"
            )
        return None


@dataclass(frozen=True, slots=True)
class Amendment:
    amendment_no: int
    assessment_invalidated: bool
    after_out_of_charge: bool


@dataclass(frozen=True, slots=True)
class Registered:
    """What the release and the gate need of one registered version of the BE."""

    ref: BillOfEntryRef
    be_type: BeType
    iec: str
    importer_name: str
    claimed_aeo_tier: AeoTier | None  # the filer's claim: decides nothing, quoted in reasons
    aeo_certificate: AeoCertificate | None
    amendment: Amendment | None
    self_assessed_duty: Decimal
    warehouse_code: str | None = None
    custodian_code: str | None = None
    customs_broker_code: str | None = None
    importer_address: str | None = None
    containers: tuple[GatepassContainer, ...] = ()
    igm: Mapping[str, Any] | None = None
    house_bills: tuple[Mapping[str, Any], ...] = ()

    @property
    def package_count(self) -> int | None:
        counts = [bill.get("package_count") for bill in self.house_bills]
        known = [count for count in counts if isinstance(count, int)]
        return sum(known) if known else None


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
    sampled_items: tuple[int, ...] = ()  # BIS-QCO-3: sold only after the laboratory result

    @property
    def sampled(self) -> bool:
        return self.verdict is BisOutcome.CONDITIONAL or bool(self.sampled_items)


SELECTIONS = ("assessment", "examination", "scanning", "pga_noc", "first_check")


@dataclass(frozen=True, slots=True)
class RmsDecision:
    ref: BillOfEntryRef
    outcome: str  # the primary lane: facilitated | assessment | examination | scanning | pga_noc
    selections: frozenset[str]  # empty: facilitated (OOC-AUTO-1)
    reasons: tuple[Reason, ...] = ()

    @property
    def examination(self) -> bool:
        return bool(self.selections & {"examination", "first_check"})


@dataclass(frozen=True, slots=True)
class Assessment:
    ref: BillOfEntryRef
    outcome: str  # confirmed | reassessed
    assessed_duty: Decimal
    officer: Officer
    assessed_at: datetime


class ExaminationOutcome(StrEnum):
    NO_DISCREPANCY = "no_discrepancy"
    DISCREPANCY = "discrepancy"
    SAMPLES_DRAWN = "samples_drawn"


@dataclass(frozen=True, slots=True)
class Examination:
    ref: BillOfEntryRef
    outcome: ExaminationOutcome
    findings: tuple[Reason, ...]
    samples: tuple[int, ...]
    officer: Officer
    examined_at: datetime


@dataclass(frozen=True, slots=True)
class PgaNoc:
    ref: BillOfEntryRef
    agency: str
    granted: bool
    reference: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class DutyPayment:
    """A payment (`kind` paid) or an OTP-authenticated deferment (`kind` deferred)."""

    ref: BillOfEntryRef
    kind: str
    amount: Decimal
    total_paid: Decimal
    reference: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class SealReconciliation:
    ref: BillOfEntryRef
    outcome: str  # matched | mismatched | tampered | delayed | exempt
    findings: tuple[Reason, ...] = ()

    @property
    def matched(self) -> bool:
        return self.outcome in ("matched", "exempt")


@dataclass(frozen=True, slots=True)
class SampleResult:
    ref: BillOfEntryRef
    conforming: bool
    laboratory: str
    report_no: str
    reasons: tuple[Reason, ...]
    concluded_at: datetime


@dataclass(frozen=True, slots=True)
class Invalidation:
    ref: BillOfEntryRef
    reasons: tuple[Reason, ...]
    invalidated_at: datetime


@dataclass(frozen=True, slots=True)
class GateOut:
    ref: BillOfEntryRef
    gatepass_no: str
    custodian_code: str
    exited_at: datetime


# Facts about one version of the BE; a newer version supersedes them.
VersionFact = Registered | BisVerdict | RmsDecision | SealReconciliation
# Facts about the BE whatever its version (money paid stays paid, goods examined stay examined).
Fact = (
    VersionFact
    | Assessment
    | Examination
    | PgaNoc
    | DutyPayment
    | SampleResult
    | Invalidation
    | GateOut
)
