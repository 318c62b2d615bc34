"""A BE's clearance case: the aggregate that decides Out of Charge (pure).

One case per BE identity. It joins the facts of the BE's latest version; facts
about an older version are stale and change nothing, and a fact about a newer
version re-opens the case for that version (an amendment, INTAKE-AMEND-1),
unless Out of Charge was already issued: a post-clearance amendment never
re-opens the release (INTAKE-AMEND-2). It decides when its facts are complete
and records the events its decisions cause, for the unit of work to publish.

States: awaiting_facts -> held (with reasons) | out_of_charge; held -> out_of_charge
when facts change; any but out_of_charge -> awaiting_facts on a newer version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from clearance_domain import BeType, BillOfEntryRef, Reason

from ooc_issuer.domain.facts import (
    BisOutcome,
    BisVerdict,
    Fact,
    Registered,
    RmsDecision,
    SealReconciliation,
)


class CaseState(StrEnum):
    AWAITING_FACTS = "awaiting_facts"
    HELD = "held"
    OUT_OF_CHARGE = "out_of_charge"


@dataclass(frozen=True, slots=True)
class OutOfChargeIssued:
    ref: BillOfEntryRef
    out_of_charge_no: str
    gatepass_no: str
    registered: Registered
    reasons: tuple[Reason, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class OutOfChargeHeld:
    ref: BillOfEntryRef
    reasons: tuple[Reason, ...]
    at: datetime


CaseEvent = OutOfChargeIssued | OutOfChargeHeld


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of the rules on complete facts: issue, or hold with reasons."""

    issue: bool
    reasons: tuple[Reason, ...]


@dataclass
class Facts:
    """The facts known about one version."""

    registered: Registered | None = None
    bis: BisVerdict | None = None
    rms: RmsDecision | None = None
    seal: SealReconciliation | None = None

    def missing(self) -> list[str]:
        needed: dict[str, Fact | None] = {
            "registered": self.registered,
            "bis": self.bis,
            "rms": self.rms,
        }
        if self.registered is not None and self.registered.be_type is BeType.WAREHOUSING:
            needed["seal"] = self.seal
        return [name for name, fact in needed.items() if fact is None]

    def add(self, fact: Fact) -> None:
        match fact:
            case Registered():
                self.registered = fact
            case BisVerdict():
                self.bis = fact
            case RmsDecision():
                self.rms = fact
            case SealReconciliation():
                self.seal = fact


@dataclass
class ClearanceCase:
    port_code: str
    be_no: str
    be_date: date
    version: int = 0
    state: CaseState = CaseState.AWAITING_FACTS
    facts: Facts = field(default_factory=Facts)
    held_reasons: tuple[Reason, ...] = ()
    out_of_charge_no: str | None = None
    gatepass_no: str | None = None
    issued_version: int | None = None
    events: list[CaseEvent] = field(default_factory=list)

    @classmethod
    def open(cls, ref: BillOfEntryRef) -> ClearanceCase:
        return cls(ref.port_code, ref.be_no, ref.be_date)

    @property
    def ref(self) -> BillOfEntryRef:
        return BillOfEntryRef(self.port_code, self.be_no, self.be_date, max(self.version, 1))

    def apply(self, fact: Fact) -> bool:
        """Take a fact; False when it is stale (an older version) and changed nothing."""
        if fact.ref.version < self.version:
            return False
        if fact.ref.version > self.version:
            if self.state is CaseState.OUT_OF_CHARGE:
                self.version = fact.ref.version  # recorded; the release stands (INTAKE-AMEND-2)
                return False
            self.version = fact.ref.version
            self.facts = Facts()
            self.state = CaseState.AWAITING_FACTS
        self.facts.add(fact)
        return True

    def pending_decision(self) -> Decision | None:
        """What the rules say now, or None: facts missing, or already issued."""
        if self.state is CaseState.OUT_OF_CHARGE or self.facts.missing():
            return None
        return decide(self.facts)

    def issue(
        self, out_of_charge_no: str, gatepass_no: str, decision: Decision, at: datetime
    ) -> None:
        """OOC-AUTO-1, OOC-GP-1: Out of Charge on this version, once."""
        registered = self.facts.registered
        if registered is None or self.state is CaseState.OUT_OF_CHARGE:
            raise ValueError("no Out of Charge without the registered BE, and never twice")
        self.state = CaseState.OUT_OF_CHARGE
        self.out_of_charge_no, self.gatepass_no = out_of_charge_no, gatepass_no
        self.issued_version = self.version
        issued = OutOfChargeIssued(
            self.ref, out_of_charge_no, gatepass_no, registered, decision.reasons, at
        )
        self.events.append(issued)

    def hold(self, decision: Decision, at: datetime) -> None:
        """Held for an officer; announced again only when the reasons change."""
        if self.state is CaseState.HELD and decision.reasons == self.held_reasons:
            return
        self.state = CaseState.HELD
        self.held_reasons = decision.reasons
        self.events.append(OutOfChargeHeld(self.ref, decision.reasons, at))


def decide(facts: Facts) -> Decision:
    """OOC-AUTO-1, OOC-BIS-1, OOC-WH-1 on complete facts."""
    be, bis, rms = facts.registered, facts.bis, facts.rms
    if be is None or bis is None or rms is None:
        raise ValueError(f"facts missing: {facts.missing()}")
    blockers: list[Reason] = []
    if bis.verdict is BisOutcome.FAILED:
        blockers.append(Reason.of("OOC-BIS-1", "a BIS check failed"))
        blockers += bis.findings
    if not rms.facilitated:
        blockers.append(Reason.of("OOC-AUTO-1", f"selected for {rms.outcome} by RMS"))
    if be.aeo_tier is None or not be.aeo_tier.automatic_out_of_charge:
        tier = be.aeo_tier.value if be.aeo_tier else "none"
        blockers.append(Reason.of("OOC-AUTO-1", f"AEO tier {tier}: automatic OOC is for T2/T3"))
    if not _duty_settled(be):
        blockers.append(Reason.of("OOC-AUTO-1", "duty neither paid nor deferred by OTP"))
    warehousing = be.be_type is BeType.WAREHOUSING
    if warehousing and facts.seal is not None and not facts.seal.matched:
        blockers.append(Reason.of("OOC-WH-1", f"seal reconciliation: {facts.seal.outcome}"))
        blockers += facts.seal.findings
    if blockers:
        return Decision(issue=False, reasons=tuple(blockers))
    reasons = [Reason.of("OOC-AUTO-1", "AEO tier, RMS facilitation and duty allow automatic OOC")]
    if warehousing:
        reasons.append(Reason.of("OOC-WH-1", "seal matched to the declared warehouse"))
    if bis.verdict is BisOutcome.CONDITIONAL:
        reasons.append(Reason.of("OOC-BIS-1", "conditional: sale restricted until tests pass"))
    return Decision(issue=True, reasons=tuple(reasons))


def _duty_settled(be: Registered) -> bool:
    if be.be_type is BeType.WAREHOUSING:
        return True  # INTAKE-BE-2: duty deferred under the warehousing provisions
    return be.duty_claimed_paid or be.duty_claimed_deferred_otp
