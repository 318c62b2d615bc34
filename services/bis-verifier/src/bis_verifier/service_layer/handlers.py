"""What bis-verifier does when a BE version is registered, examined, or its samples tested.

A registered version is verified at once when the registry's answers it needs
are in the cache and fresh (BIS-CRS-1: the status at clearance); otherwise it
is parked as "verification pending" and the verification worker asks the
registry outside any transaction (`worker.py`). No HTTP call ever runs inside
the consumer's transaction, and a BE is never passed unverified.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from clearance_contracts import (
    BILL_OF_ENTRY_REGISTERED,
    BIS_SAMPLE_CONCLUDED,
    BIS_VERIFICATION_COMPLETED,
    EXAMINATION_COMPLETED,
    SAMPLE_TEST_REPORTED,
)
from clearance_domain import BillOfEntry, BillOfEntryRef, PolicyRef, VersionGate
from clearance_runtime.clock import SystemClock
from clearance_runtime.consumer import Handler
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.metrics import DECISIONS
from clearance_runtime.policies import Policies, PolicyBook, PolicyKind, PolicyNotInForce
from clearance_runtime.tracing import continuing
from clearance_runtime.unit_of_work import Collected

from bis_verifier.domain.catalogue import EMPTY_CATALOGUE, CoverageCatalogue
from bis_verifier.domain.registry import Answer, Answers, Lookup
from bis_verifier.domain.sampling import LabReport, Origin, SampleCase
from bis_verifier.domain.verification import Verdict, lookups_needed, verify
from bis_verifier.service_layer import metrics
from bis_verifier.service_layer.registry import CachedRegistry, RegistryUnavailable
from bis_verifier.service_layer.unit_of_work import BisUnitOfWork

SERVICE = "bis-verifier"
COVERAGE: PolicyKind[CoverageCatalogue] = PolicyKind(
    "bis-coverage-catalogue",
    CoverageCatalogue.from_data,
    "Tariff lines under the Compulsory Registration Order and the Quality Control Orders",
)
VERIFIED_STEP = "bis-verifier.verified"
PARKED_STEP = "bis-verifier.parked"


@dataclass(frozen=True, slots=True)
class Plan:
    """How one BE version is verified: the catalogue in force and what to ask the registry."""

    be: BillOfEntry
    catalogue: CoverageCatalogue
    policy: PolicyRef | None
    lookups: frozenset[Lookup]


class Verifier:
    """The BIS rules with the catalogue in force on the BE date (BIS-CRS-4)."""

    def __init__(self, policies: PolicyBook) -> None:
        self.policies = policies

    def plan(self, bill_of_entry: Mapping[str, Any]) -> Plan:
        be = BillOfEntry.from_data(bill_of_entry)
        catalogue, policy = self.catalogue_on(be.be_date)
        return Plan(be, catalogue, policy, frozenset(lookups_needed(be, catalogue)))

    def catalogue_on(self, day: date) -> tuple[CoverageCatalogue, PolicyRef | None]:
        try:
            policy = self.policies.in_force(COVERAGE, day)
        except PolicyNotInForce:
            return EMPTY_CATALOGUE, None  # before any order: nothing is covered
        return policy.body, PolicyRef(policy.policy_id, policy.version)

    def verify(self, plan: Plan, answers: Answers) -> Verdict:
        started = time.process_time()
        verdict = verify(plan.be, plan.catalogue, answers, plan.policy)
        metrics.VERIFY_SECONDS.labels(SERVICE).observe(time.process_time() - started)
        for item in verdict.items:
            metrics.ITEMS_VERIFIED.labels(SERVICE, item.outcome.value).inc()
        return verdict


def handlers(verifier: Verifier, registry: CachedRegistry) -> dict[str, Handler]:
    async def on_registered(event: CloudEvent, uow: BisUnitOfWork) -> None:
        """BIS-CRS-1..4, BIS-QCO-1..3 on this version: decided now if the registry's
        answers are cached and fresh, else parked for the verification worker."""
        ref = BillOfEntryRef.from_data(event.data["bill_of_entry_ref"])
        bill_of_entry = event.data["bill_of_entry"]
        plan = verifier.plan(bill_of_entry)
        answers = registry.fresh_all(plan.lookups)
        if len(answers) == len(plan.lookups):
            verdict = verifier.verify(plan, answers)
            uow.collect(VERIFIED_STEP, (ref, verdict, bill_of_entry), record_verdicts)
        else:
            uow.collect(PARKED_STEP, (ref, bill_of_entry, sorted(plan.lookups)), park_pending)

    async def on_examined(event: CloudEvent, uow: BisUnitOfWork) -> None:
        """RMS-SAMPLE-1 (Instruction 28/2023): samples drawn at examination await the lab."""
        if event.data["outcome"] != "samples_drawn" or not event.data["samples"]:
            return
        ref = BillOfEntryRef.from_data(event.data["bill_of_entry_ref"])
        case = await uow.samples.get(ref.identity) or SampleCase(ref)
        case.draw(ref, [int(n) for n in event.data["samples"]], Origin.EXAMINATION)
        uow.samples.save(case)
        metrics.SAMPLES.labels(SERVICE, "drawn").inc()

    async def on_sample_tested(event: CloudEvent, uow: BisUnitOfWork) -> None:
        """BIS-QCO-3: the laboratory's report concludes the samples (or some of them)."""
        report = LabReport.from_data(event.data)
        newest = report.ref
        latest = await uow.verifications.latest_versions([newest.identity])
        if latest.get(newest.identity, 0) > newest.version:
            newest = newest.at_version(latest[newest.identity])
        case = await uow.samples.get(newest.identity) or SampleCase(newest)
        case.record(report, newest, uow.clock.now())
        for concluded in case.events:
            uow.publish(BIS_SAMPLE_CONCLUDED, concluded.ref.key, concluded.to_data())
            outcome = "conforming" if concluded.conforming else "non_conforming"
            metrics.SAMPLES.labels(SERVICE, outcome).inc()
        case.events.clear()
        uow.samples.save(case)

    return {
        BILL_OF_ENTRY_REGISTERED: on_registered,
        EXAMINATION_COMPLETED: on_examined,
        SAMPLE_TEST_REPORTED: on_sample_tested,
    }


def handler_table() -> dict[str, Handler]:
    """The handlers over an empty catalogue and no registry: what the service consumes."""
    return handlers(
        Verifier(Policies([COVERAGE])), CachedRegistry(_NoRegistry(), SystemClock(), timedelta(0))
    )


class _NoRegistry:
    async def look_up(self, lookup: Lookup) -> Answer:
        raise RegistryUnavailable("no registry")


async def park_pending(uow: BisUnitOfWork, parked: Collected) -> None:
    """Versions that wait for the registry (once per batch); older waiting versions of
    the same BE are superseded, and a version older than one verified is not parked."""
    gate = VersionGate(
        await uow.verifications.latest_versions([item[0].identity for item, _ in parked])
    )
    now = uow.clock.now()
    for (ref, bill_of_entry, lookups), carrier in parked:
        if not gate.admits(ref):
            DECISIONS.labels(SERVICE, "bis", "stale").inc()
            continue
        if ref.version > 1:
            uow.waiting.supersede(ref)
        uow.waiting.park(ref, bill_of_entry, lookups, now, carrier)


async def record_verdicts(uow: BisUnitOfWork, verified: Collected) -> None:
    """One verdict per BE version: a late, older version is neither recorded nor published.
    A conditional verdict draws samples (BIS-QCO-3)."""
    refs = [item[0] for item, _ in verified]
    gate = VersionGate(await uow.verifications.latest_versions([r.identity for r in refs]))
    for (ref, verdict, bill_of_entry), carrier in verified:
        if not gate.admits(ref):
            DECISIONS.labels(SERVICE, "bis", "stale").inc()
            continue
        uow.verifications.add(ref, verdict)
        if ref.version > 1:  # older versions still waiting wait no more
            uow.waiting.supersede(ref)
        with continuing(carrier):
            uow.publish(
                BIS_VERIFICATION_COMPLETED, ref.key, _verdict_data(uow, ref, verdict, bill_of_entry)
            )
        if verdict.sampling is not None:
            case = await uow.samples.get(ref.identity) or SampleCase(ref)
            case.draw(ref, list(verdict.sampling.items), Origin.QCO)
            uow.samples.save(case)
            metrics.SAMPLES.labels(SERVICE, "drawn").inc()
        DECISIONS.labels(SERVICE, "bis", verdict.verdict).inc()


def _verdict_data(
    uow: BisUnitOfWork, ref: BillOfEntryRef, verdict: Verdict, bill_of_entry: dict[str, Any]
) -> dict[str, Any]:
    return {
        "bill_of_entry_ref": ref.to_data(),
        **verdict.to_data(),
        "bill_of_entry": bill_of_entry,
        "verified_at": uow.clock.now().isoformat(),
    }
