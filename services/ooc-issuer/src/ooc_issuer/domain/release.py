"""The release decision on one BE version's facts (pure): OOC-AUTO-1, OOC-EXAM-1,
OOC-CCV-1, OOC-BIS-1, OOC-WH-1, BIS-QCO-3, INTAKE-AMEND-1.

`decide(facts)` sorts what stands between the BE and its Out of Charge into
- blockers: facts that forbid any release, automatic or by an officer (a failed BIS
  check or sample, a seal that does not match, an assessment pending or stale after an
  amendment, an examination or PGA NOC pending or refused, duty short);
- judgements: what only an officer may overlook (no valid AEO T2/T3 certificate,
  selection for scanning or PGA NOC, a discrepancy since re-assessed);
and answers: release automatically (OOC-AUTO-1), release on the examining officer's
report (OOC-EXAM-1), or hold with the precise reasons (for the officer's queue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from clearance_domain import BeType, Reason

from ooc_issuer.domain.facts import (
    Assessment,
    BisOutcome,
    BisVerdict,
    Examination,
    ExaminationOutcome,
    Officer,
    PgaNoc,
    Registered,
    RmsDecision,
    SampleResult,
    SealReconciliation,
)


class Mode(StrEnum):
    AUTOMATIC = "automatic"
    OFFICER = "officer"
    CCV = "ccv"


@dataclass(frozen=True, slots=True)
class SaleRestriction:
    """BIS-QCO-3: released, but not to be sold until the laboratory confirms conformity."""

    items: tuple[int, ...]
    reason: Reason


@dataclass(frozen=True, slots=True)
class ReleaseFacts:
    """Everything the decision reads about the BE's latest version."""

    registered: Registered
    bis: BisVerdict
    rms: RmsDecision
    seal: SealReconciliation | None = None
    assessment: Assessment | None = None  # the valid one (not invalidated by an amendment)
    assessment_stale: Assessment | None = None  # one invalidated by a later amendment
    examination: Examination | None = None
    nocs: Mapping[str, PgaNoc] | None = None  # by agency, the latest of each
    paid: Decimal = Decimal(0)  # total paid so far (bank / ledger)
    deferred: Decimal = Decimal(0)  # duty deferred with OTP authentication
    sample: SampleResult | None = None

    @property
    def warehousing(self) -> bool:
        return self.registered.be_type is BeType.WAREHOUSING

    @property
    def assessment_required(self) -> bool:
        """Selected for assessment, or an earlier assessment re-opened by an amendment."""
        return "assessment" in self.rms.selections or self.assessment_stale is not None

    def duty_due(self) -> Decimal | None:
        """The duty to pay: as assessed, else as self-assessed when RMS accepted the
        self-assessment (facilitated); None while the assessment is awaited."""
        if self.assessment is not None:
            return self.assessment.assessed_duty
        if self.assessment_required:
            return None
        return self.registered.self_assessed_duty


@dataclass(frozen=True, slots=True)
class Decision:
    blockers: tuple[Reason, ...]
    judgements: tuple[Reason, ...]
    duty_blocked: bool  # the duty is one of the blockers (a CCV may wait for it)
    release: tuple[Mode, Officer | None, tuple[Reason, ...]] | None
    restriction: SaleRestriction | None

    @property
    def held_reasons(self) -> tuple[Reason, ...]:
        return self.blockers + self.judgements

    @property
    def grantable(self) -> bool:
        """An officer may grant OOC now (no fact blocks it)."""
        return not self.blockers

    @property
    def ccv_possible(self) -> bool:
        """OOC-CCV-1: compliance may be verified before payment: only the duty blocks."""
        return self.duty_blocked and len(self.blockers) == 1


def _money(amount: Decimal) -> str:
    return f"Rs {amount:,.2f}"


def _aeo_judgement(be: Registered) -> Reason | None:
    """OOC-AUTO-1 on the AEO directory's certificate, never on the filer's claim."""
    claimed = f" (the filing claims {be.claimed_aeo_tier.value})" if be.claimed_aeo_tier else ""
    certificate = be.aeo_certificate
    if certificate is None:
        message = f"no AEO certificate in the AEO directory for IEC {be.iec}{claimed}"
    else:
        problem = certificate.problem(be.iec, be.ref.be_date)
        if problem is None:
            return None
        message = problem + claimed
    return Reason.of("OOC-AUTO-1", f"{message}: automatic OOC is for AEO T2/T3 importers")


def _duty_blocker(facts: ReleaseFacts) -> Reason | None:
    if facts.warehousing:
        return None  # INTAKE-BE-2: duty deferred under the warehousing provisions
    due = facts.duty_due()
    if due is None:
        return None  # the assessment blocker says why
    settled = facts.paid + facts.deferred
    if settled >= due:
        return None
    if settled == 0:
        message = f"duty of {_money(due)} neither paid nor deferred with OTP authentication"
    else:
        message = f"duty short: {_money(settled)} paid or deferred of {_money(due)} due"
    return Reason.of("OOC-AUTO-1", message)


def _restriction(facts: ReleaseFacts) -> SaleRestriction | None:
    """BIS-QCO-3: sampled goods are released with a sale restriction until the lab result."""
    exam_samples = (
        facts.examination.samples
        if facts.examination and facts.examination.outcome is ExaminationOutcome.SAMPLES_DRAWN
        else ()
    )
    if not (facts.bis.sampled or exam_samples) or facts.sample is not None:
        return None
    items = tuple(sorted({*facts.bis.sampled_items, *exam_samples}))
    listed = ", ".join(str(item) for item in items) or "sampled"
    reason = Reason.of(
        "BIS-QCO-3",
        f"items {listed}: sale restricted until an NABL-accredited laboratory confirms conformity",
    )
    return SaleRestriction(items, reason)


def decide(facts: ReleaseFacts) -> Decision:
    """The release decision on complete base facts (registered, BIS, RMS, seal if W)."""
    blockers: list[Reason] = []
    judgements: list[Reason] = []
    be, bis, rms = facts.registered, facts.bis, facts.rms

    if bis.verdict is BisOutcome.FAILED:
        blockers.append(Reason.of("OOC-BIS-1", "a BIS check failed: no Out of Charge"))
        blockers += bis.findings
    if facts.sample is not None and not facts.sample.conforming:
        blockers.append(
            Reason.of(
                "BIS-QCO-3",
                f"sample did not conform ({facts.sample.laboratory}, report "
                f"{facts.sample.report_no}): re-export or destruction ordered",
            )
        )
    if facts.warehousing and (facts.seal is None or not facts.seal.matched):
        outcome = facts.seal.outcome if facts.seal else "not reconciled"
        blockers.append(Reason.of("OOC-WH-1", f"seal and warehouse code do not match: {outcome}"))
        blockers += facts.seal.findings if facts.seal else ()

    if facts.assessment is None and facts.assessment_stale is not None:
        stale = facts.assessment_stale
        blockers.append(
            Reason.of(
                "INTAKE-AMEND-1",
                f"the assessment of version {stale.ref.version} is stale: an amendment changed "
                f"an element of assessment of version {be.ref.version}; re-assessment needed",
            )
        )
    elif facts.assessment is None and facts.assessment_required:
        blockers.append(
            Reason.of("OOC-AUTO-1", "selected for assessment: the assessment is not complete")
        )

    exam = facts.examination
    if rms.examination and exam is None:
        blockers.append(
            Reason.of("RMS-1", "selected for examination: awaiting the examination report")
        )
    if exam is not None and exam.outcome is ExaminationOutcome.DISCREPANCY:
        reassessed = facts.assessment is not None and (
            facts.assessment.assessed_at > exam.examined_at
        )
        reason = Reason.of(
            "OOC-EXAM-1",
            "the examination found a discrepancy"
            + (
                ": re-assessed since, an officer decides"
                if reassessed
                else ": re-assessment needed"
            ),
        )
        (judgements if reassessed else blockers).append(reason)
        blockers += () if reassessed else exam.findings

    if "pga_noc" in rms.selections:
        nocs = facts.nocs or {}
        refused = [noc for noc in nocs.values() if not noc.granted]
        for noc in refused:
            blockers.append(Reason.of("RMS-3", f"{noc.agency} refused its NOC ({noc.reference})"))
        if not nocs:
            blockers.append(Reason.of("RMS-3", "selected for a PGA NOC: awaiting the agency"))
        elif not refused:
            agencies = ", ".join(sorted(nocs))
            judgements.append(
                Reason.of("RMS-3", f"selected for a PGA NOC, granted by {agencies}: an officer")
            )
    if "scanning" in rms.selections and exam is None:
        judgements.append(Reason.of("RMS-3", "selected for scanning: an officer views the scan"))

    duty = _duty_blocker(facts)
    if duty is not None:
        blockers.append(duty)
    aeo = _aeo_judgement(be)
    restriction = _restriction(facts)
    release: tuple[Mode, Officer | None, tuple[Reason, ...]] | None = None
    if not blockers:
        cleared_exam = exam is not None and exam.outcome is not ExaminationOutcome.DISCREPANCY
        if cleared_exam and exam is not None and not judgements:  # OOC-EXAM-1
            message = f"examined by {exam.officer.officer_id}: {exam.outcome.value}"
            release = (Mode.OFFICER, exam.officer, (Reason.of("OOC-EXAM-1", message),))
        elif not judgements and aeo is None:
            release = (Mode.AUTOMATIC, None, _automatic_reasons(facts))
    if aeo is not None and release is None:
        judgements.insert(0, aeo)
    if release is not None:
        extra = [Reason.of("OOC-WH-1", "seal matched to the declared warehouse")]
        reasons = release[2] + (tuple(extra) if facts.warehousing else ())
        if restriction is not None:
            reasons += (Reason.of("OOC-BIS-1", "conditional: " + restriction.reason.message),)
        release = (release[0], release[1], reasons)
    return Decision(tuple(blockers), tuple(judgements), duty is not None, release, restriction)


def _automatic_reasons(facts: ReleaseFacts) -> tuple[Reason, ...]:
    certificate = facts.registered.aeo_certificate
    assert certificate is not None
    due = facts.duty_due() or Decimal(0)
    settled = (
        "warehoused (duty deferred)"
        if facts.warehousing
        else "deferred with OTP"
        if facts.deferred > 0 and facts.paid < due
        else "paid"
    )
    assessed = "assessed" if facts.assessment is not None else "self-assessment accepted"
    return (
        Reason.of(
            "OOC-AUTO-1",
            f"AEO {certificate.tier} certificate {certificate.certificate_no}; not selected for "
            f"examination, scanning or PGA NOC; {assessed}; duty {settled}",
        ),
    )


def officer_release(decision: Decision, officer: Officer) -> tuple[Reason, ...]:
    """The reasons of an Out of Charge an officer grants over what only needed judgement."""
    noted = "; ".join(reason.message for reason in decision.judgements) or "no objection"
    return (Reason.of("OOC-AUTO-1", f"Out of Charge granted by {officer.officer_id}: {noted}"),)
