"""A BE's clearance case: the aggregate that decides its Out of Charge (pure).

One case per BE identity. It joins the facts of the BE's latest version (registration,
BIS verdict, RMS decision, seal reconciliation) with the facts about the BE whatever its
version (assessments per version, examination, PGA NOCs, payments, laboratory result,
invalidation, gate-out). Facts arrive in any order and any number of times: a fact about
an older version is stale and changes nothing; a newer version re-opens the case
(INTAKE-AMEND-1) unless Out of Charge was issued: a post-clearance amendment never
re-opens the release (INTAKE-AMEND-2). An assessment stays valid for later versions
unless an amendment in between changed an element of assessment.

States:
    awaiting_facts -> held (queued for the OOC officer with reasons)
                   -> out_of_charge (automatic, OOC-AUTO-1; on examination, OOC-EXAM-1)
    held -> out_of_charge (facts changed, or an officer granted it)
         -> conditionally_cleared (an officer verified compliance before payment,
            OOC-CCV-1) -> out_of_charge (mode ccv) the moment the duty is paid
         -> refused (an officer refused it; a new version re-opens it)
    any before out_of_charge -> invalidated (be-intake invalidated the BE)
    out_of_charge -> gated_out (the custodian reports the goods left its gate)
The case records the events its decisions cause, for the unit of work to publish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from clearance_domain import BeType, BillOfEntryRef, Reason

from ooc_issuer.domain.facts import (
    Assessment,
    BisVerdict,
    DutyPayment,
    Examination,
    Fact,
    GateOut,
    Invalidation,
    Officer,
    PgaNoc,
    Registered,
    RmsDecision,
    SampleResult,
    SealReconciliation,
)
from ooc_issuer.domain.release import Decision, Mode, ReleaseFacts, SaleRestriction, decide
from ooc_issuer.domain.release import officer_release as _officer_reasons


class CaseState(StrEnum):
    AWAITING_FACTS = "awaiting_facts"
    HELD = "held"
    CONDITIONALLY_CLEARED = "conditionally_cleared"
    REFUSED = "refused"
    OUT_OF_CHARGE = "out_of_charge"
    INVALIDATED = "invalidated"
    GATED_OUT = "gated_out"


OPEN = (CaseState.AWAITING_FACTS, CaseState.HELD, CaseState.CONDITIONALLY_CLEARED)
RELEASED = (CaseState.OUT_OF_CHARGE, CaseState.GATED_OUT)
QUEUED = (CaseState.HELD, CaseState.CONDITIONALLY_CLEARED)


class CaseError(Exception):
    """An officer's action the case refuses; `reasons` say why."""

    def __init__(self, message: str, reasons: tuple[Reason, ...] = ()) -> None:
        super().__init__(message)
        self.reasons = reasons


class StaleVersion(CaseError):
    """The officer acted on a version the case has moved past."""


@dataclass(frozen=True, slots=True)
class Release:
    """What the rules (or an officer) allow: Out of Charge in this mode, for these reasons."""

    mode: Mode
    officer: Officer | None
    reasons: tuple[Reason, ...]
    restriction: SaleRestriction | None


@dataclass(frozen=True, slots=True)
class Issued:
    """The Out of Charge given, with the e-Gatepass and the signed e-OOC token."""

    version: int
    out_of_charge_no: str
    gatepass_no: str
    mode: Mode
    officer: Officer | None
    reasons: tuple[Reason, ...]
    restriction: SaleRestriction | None
    custodian_code: str | None
    document_token: str
    key_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OutOfChargeIssued:
    ref: BillOfEntryRef
    issued: Issued
    registered: Registered


@dataclass(frozen=True, slots=True)
class OutOfChargeHeld:
    ref: BillOfEntryRef
    reasons: tuple[Reason, ...]
    status: CaseState
    grantable: bool
    officer: Officer | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ReExportOrdered:
    ref: BillOfEntryRef
    reasons: tuple[Reason, ...]
    at: datetime


CaseEvent = OutOfChargeIssued | OutOfChargeHeld | ReExportOrdered


@dataclass
class VersionFacts:
    """The facts of one version of the BE."""

    registered: Registered | None = None
    bis: BisVerdict | None = None
    rms: RmsDecision | None = None
    seal: SealReconciliation | None = None

    def missing(self) -> list[str]:
        needed: dict[str, object] = {
            "registered": self.registered,
            "bis": self.bis,
            "rms": self.rms,
        }
        if self.registered is not None and self.registered.be_type is BeType.WAREHOUSING:
            needed["seal"] = self.seal
        return [name for name, fact in needed.items() if fact is None]


@dataclass
class ClearanceCase:
    port_code: str
    be_no: str
    be_date: date
    version: int = 0
    state: CaseState = CaseState.AWAITING_FACTS
    facts: VersionFacts = field(default_factory=VersionFacts)
    assessments: dict[int, Assessment] = field(default_factory=dict)
    invalidating_versions: set[int] = field(default_factory=set)
    examination: Examination | None = None
    nocs: dict[str, PgaNoc] = field(default_factory=dict)
    payments: dict[str, DutyPayment] = field(default_factory=dict)
    sample: SampleResult | None = None
    invalidation: Invalidation | None = None
    gate_out: GateOut | None = None
    ccv_officer: Officer | None = None
    refusal: tuple[Officer, str] | None = None
    held_reasons: tuple[Reason, ...] = ()
    grantable: bool = False
    queued_at: datetime | None = None
    issued: Issued | None = None
    re_export_ordered: bool = False
    events: list[CaseEvent] = field(default_factory=list)

    @classmethod
    def open(cls, ref: BillOfEntryRef) -> ClearanceCase:
        return cls(ref.port_code, ref.be_no, ref.be_date)

    @property
    def ref(self) -> BillOfEntryRef:
        return BillOfEntryRef(self.port_code, self.be_no, self.be_date, max(self.version, 1))

    @property
    def issued_version(self) -> int | None:
        return self.issued.version if self.issued else None

    @property
    def sale_restricted(self) -> bool:
        """Released with a sale restriction the laboratory has not lifted yet (BIS-QCO-3)."""
        return bool(self.issued and self.issued.restriction and self.sample is None)

    # --- facts ------------------------------------------------------------------------------

    def apply(self, fact: Fact) -> bool:
        """Take a fact; False when it changed nothing (a duplicate, or stale)."""
        match fact:
            case Registered() | BisVerdict() | RmsDecision() | SealReconciliation():
                return self._apply_version_fact(fact)
            case Assessment():
                known = self.assessments.get(fact.ref.version)
                if known is not None and known.assessed_at >= fact.assessed_at:
                    return False
                self.assessments[fact.ref.version] = fact
                return True
            case Examination():
                if self.examination is not None and (
                    self.examination.examined_at >= fact.examined_at
                ):
                    return False
                self.examination = fact
                return True
            case PgaNoc():
                noc = self.nocs.get(fact.agency)
                if noc is not None and noc.recorded_at >= fact.recorded_at:
                    return False
                self.nocs[fact.agency] = fact
                return True
            case DutyPayment():
                if fact.reference in self.payments:
                    return False
                self.payments[fact.reference] = fact
                return True
            case SampleResult():
                if self.sample is not None:
                    return False
                self.sample = fact
                return True
            case Invalidation():
                if self.invalidation is not None:
                    return False
                self.invalidation = fact
                return True
            case GateOut():
                if self.gate_out == fact or self._gated_out():
                    return False
                self.gate_out = fact  # checked against the gate pass it names (`_gated_out`)
                return True

    def _apply_version_fact(
        self, fact: Registered | BisVerdict | RmsDecision | SealReconciliation
    ) -> bool:
        changed = False
        if (
            isinstance(fact, Registered)
            and fact.amendment
            and fact.amendment.assessment_invalidated
        ):
            # Kept even from a stale version: it still makes earlier assessments stale.
            changed = fact.ref.version not in self.invalidating_versions
            self.invalidating_versions.add(fact.ref.version)
        if fact.ref.version < self.version:
            return changed
        if fact.ref.version > self.version:
            if self.state not in OPEN and self.state is not CaseState.REFUSED:
                self.version = fact.ref.version  # recorded; the release stands (INTAKE-AMEND-2)
                return True
            self.version = fact.ref.version
            self.facts = VersionFacts()
            self.state = CaseState.AWAITING_FACTS
            self.ccv_officer, self.refusal = None, None
            self.held_reasons, self.grantable, self.queued_at = (), False, None
        match fact:
            case Registered():
                changed |= self.facts.registered != fact
                self.facts.registered = fact
            case BisVerdict():
                changed |= self.facts.bis != fact
                self.facts.bis = fact
            case RmsDecision():
                changed |= self.facts.rms != fact
                self.facts.rms = fact
            case SealReconciliation():
                changed |= self.facts.seal != fact
                self.facts.seal = fact
        return changed

    # --- the decision -----------------------------------------------------------------------

    def release_facts(self) -> ReleaseFacts | None:
        """The facts the decision reads, or None while a base fact is missing."""
        facts = self.facts
        if facts.missing() or not (facts.registered and facts.bis and facts.rms):
            return None
        valid, stale = self._assessments()
        deferred = sum(
            (p.amount for p in self.payments.values() if p.kind == "deferred"), Decimal(0)
        )
        paid = max((p.total_paid for p in self.payments.values()), default=Decimal(0))
        return ReleaseFacts(
            registered=facts.registered,
            bis=facts.bis,
            rms=facts.rms,
            seal=facts.seal,
            assessment=valid,
            assessment_stale=stale,
            examination=self.examination,
            nocs=dict(self.nocs),
            paid=paid,
            deferred=deferred,
            sample=self.sample,
        )

    def _assessments(self) -> tuple[Assessment | None, Assessment | None]:
        """The valid assessment for this version (no invalidating amendment since), and
        otherwise the latest stale one."""

        def valid(a: Assessment) -> bool:
            return a.ref.version <= self.version and not any(
                a.ref.version < v <= self.version for v in self.invalidating_versions
            )

        ordered = sorted(self.assessments.values(), key=lambda a: (a.ref.version, a.assessed_at))
        usable = [a for a in ordered if valid(a)]
        if usable:
            return usable[-1], None
        stale = [a for a in ordered if a.ref.version <= self.version]
        return None, stale[-1] if stale else None

    def decision(self) -> Decision | None:
        facts = self.release_facts()
        return decide(facts) if facts else None

    def settle(self, at: datetime) -> Release | None:
        """Apply what the facts now say: invalidation, gate-out, a failed sample's order,
        a hold; return the Release to issue when the rules allow one (the caller numbers
        and signs it, then calls `issue`)."""
        if self.sample is not None and not self.sample.conforming and not self.re_export_ordered:
            self._order_re_export(self.sample, at)
        if self.state in RELEASED:
            if self.state is CaseState.OUT_OF_CHARGE and self._gated_out():
                self.state = CaseState.GATED_OUT
            return None
        if self.invalidation is not None:
            self.state, self.queued_at, self.grantable = CaseState.INVALIDATED, None, False
            return None
        if self.state is CaseState.REFUSED:
            return None
        decision = self.decision()
        if decision is None:
            return None
        if self.state is CaseState.CONDITIONALLY_CLEARED and decision.grantable:
            assert self.ccv_officer is not None
            verified = Reason.of(
                "OOC-CCV-1",
                f"compliance verified by {self.ccv_officer.officer_id}; duty now paid",
            )
            return Release(Mode.CCV, self.ccv_officer, (verified,), decision.restriction)
        if decision.release is not None:
            mode, officer, reasons = decision.release
            return Release(mode, officer, reasons, decision.restriction)
        status = (
            CaseState.CONDITIONALLY_CLEARED
            if self.state is CaseState.CONDITIONALLY_CLEARED
            else CaseState.HELD
        )
        self._hold(decision.held_reasons, status, decision.grantable, self.ccv_officer, at)
        return None

    def _gated_out(self) -> bool:
        gate_out, issued = self.gate_out, self.issued
        return bool(
            gate_out and issued and gate_out.gatepass_no == issued.gatepass_no
            and gate_out.custodian_code == issued.custodian_code
        )  # fmt: skip

    def _hold(
        self,
        reasons: tuple[Reason, ...],
        status: CaseState,
        grantable: bool,
        officer: Officer | None,
        at: datetime,
    ) -> None:
        """Queued for the OOC officer; announced again only when something changed."""
        if (self.state, self.held_reasons, self.grantable) == (status, reasons, grantable):
            return
        self.state, self.held_reasons, self.grantable = status, reasons, grantable
        if self.queued_at is None:
            self.queued_at = at  # RMS-QUEUE-1: first in, first out
        self.events.append(OutOfChargeHeld(self.ref, reasons, status, grantable, officer, at))

    def _order_re_export(self, sample: SampleResult, at: datetime) -> None:
        """BIS-QCO-3: a failed sample means re-export (or destruction) at the importer's cost."""
        self.re_export_ordered = True
        message = (
            f"the sample did not conform ({sample.laboratory}, report {sample.report_no}): "
            "re-export at the importer's cost"
        )
        reasons = (Reason.of("BIS-QCO-3", message), *sample.reasons)
        self.events.append(ReExportOrdered(self.ref, reasons, at))

    def issue(
        self,
        release: Release,
        *,
        out_of_charge_no: str,
        gatepass_no: str,
        custodian_code: str | None,
        document_token: str,
        key_id: str,
        at: datetime,
    ) -> None:
        """Out of Charge on this version, exactly once (OOC-AUTO-1, OOC-GP-1)."""
        registered = self.facts.registered
        if registered is None or self.state not in OPEN:
            raise CaseError("no Out of Charge without the registered BE, and never twice")
        self.issued = Issued(
            self.version,
            out_of_charge_no,
            gatepass_no,
            release.mode,
            release.officer,
            release.reasons,
            release.restriction,
            custodian_code,
            document_token,
            key_id,
            at,
        )
        self.state, self.queued_at, self.held_reasons, self.grantable = (
            CaseState.OUT_OF_CHARGE,
            None,
            (),
            False,
        )
        self.events.append(OutOfChargeIssued(self.ref, self.issued, registered))
        if self._gated_out():
            self.state = CaseState.GATED_OUT

    # --- officers ---------------------------------------------------------------------------

    def _officer_decision(self, officer: Officer, version: int) -> Decision:
        if officer.location != self.port_code:
            raise CaseError(f"the BE is at {self.port_code}, not at {officer.location}")
        if version != self.version:
            raise StaleVersion(f"the BE is at version {self.version}, not {version}")
        if self.state not in QUEUED:
            raise CaseError(f"the BE is {self.state.value}, not waiting for an officer")
        decision = self.decision()
        assert decision is not None  # queued cases have their base facts
        return decision

    def grant(self, officer: Officer, version: int) -> Release:
        """An officer grants OOC where only judgement was missing (OOC-AUTO-1); never
        over a blocking fact (OOC-BIS-1, OOC-WH-1, duty, assessment, examination)."""
        decision = self._officer_decision(officer, version)
        if not decision.grantable:
            raise CaseError("a fact blocks Out of Charge", decision.blockers)
        reasons = _officer_reasons(decision, officer)
        return Release(Mode.OFFICER, officer, reasons, decision.restriction)

    def clear_conditionally(self, officer: Officer, version: int, at: datetime) -> None:
        """OOC-CCV-1: compliance verified, conditionally cleared before payment; the OOC
        follows the payment."""
        decision = self._officer_decision(officer, version)
        if not decision.ccv_possible:
            why = "grant it instead" if decision.grantable else "a fact other than duty blocks"
            raise CaseError(f"CCV is for BEs waiting only for their duty: {why}", decision.blockers)
        self.ccv_officer = officer
        self.state = CaseState.CONDITIONALLY_CLEARED
        reasons = (
            Reason.of(
                "OOC-CCV-1",
                f"compliance verified by {officer.officer_id}: conditionally cleared, "
                "Out of Charge when the duty is paid",
            ),
            *decision.blockers,
        )
        self.held_reasons, self.grantable = reasons, False
        self.events.append(OutOfChargeHeld(self.ref, reasons, self.state, False, officer, at))

    def refuse(self, officer: Officer, version: int, why: str, at: datetime) -> None:
        """An officer refuses OOC for this version (RMS-QUEUE-1); an amendment re-opens it."""
        self._officer_decision(officer, version)
        self.state, self.refusal, self.queued_at = CaseState.REFUSED, (officer, why), None
        reasons = (
            Reason.of("RMS-QUEUE-1", f"Out of Charge refused by {officer.officer_id}: {why}"),
        )
        self.held_reasons, self.grantable = reasons, False
        self.events.append(OutOfChargeHeld(self.ref, reasons, self.state, False, officer, at))
