"""The verification worker: BE versions parked as "verification pending" meet the registry.

Per pass: claim due versions (a short transaction that leases them), ask the
registry for what they need outside any transaction (cached answers first,
calls bounded, each with its timeouts, retries and circuit breaker), then
decide in one unit of work: a version whose answers all came is verified,
recorded and published like any other; one whose registry did not answer
stays pending, is retried with exponential backoff, and is announced once as
pending (`clearance.bis-verification.pending.v1`). Never passed unverified
(BIS-CRS-1). A claim whose lease ran out meanwhile is left to its new owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from clearance_contracts import BIS_VERIFICATION_PENDING
from clearance_domain import Reason
from clearance_domain.reasons import reasons_data
from clearance_runtime.clock import Clock
from clearance_runtime.deliveries import Backoff
from clearance_runtime.tracing import continuing

from bis_verifier.domain.registry import Answer, Lookup, LookupKind
from bis_verifier.service_layer.handlers import VERIFIED_STEP, Verifier, record_verdicts
from bis_verifier.service_layer.registry import CachedRegistry, RegistryUnavailable
from bis_verifier.service_layer.unit_of_work import BisUnitOfWork, PendingVerification

log = logging.getLogger(__name__)


class PendingQueue(Protocol):
    """The parked versions, read outside a unit of work."""

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[PendingVerification]:
        """Lease up to `limit` due versions (a short transaction of its own)."""
        ...

    async def next_due(self) -> datetime | None:
        """When the next pending version falls due, if any is pending."""
        ...

    async def wait_for_wake_up(self, timeout_s: float) -> None:
        """Until a version is parked (NOTIFY at its commit) or `timeout_s` passes."""
        ...


class VerificationWorker:
    def __init__(
        self,
        *,
        queue: PendingQueue,
        unit_of_work: Callable[[], contextlib.AbstractAsyncContextManager[BisUnitOfWork]],
        registry: CachedRegistry,
        verifier: Verifier,
        clock: Clock,
        backoff: Backoff,
        batch_size: int = 100,
        lease: timedelta = timedelta(seconds=60),
        poll_interval_s: float = 1.0,
    ) -> None:
        self.queue = queue
        self.unit_of_work = unit_of_work
        self.registry = registry
        self.verifier = verifier
        self.clock = clock
        self.backoff = backoff
        self.batch_size = batch_size
        self.lease = lease
        self.poll_interval_s = poll_interval_s
        self._failures = 0

    async def step(self) -> None:
        """One pass, then (unless more is due at once) a wait for work: what the
        runtime's periodic loop runs. A failing pass (the database away) is logged
        and tried again after a pause that grows to 5 s."""
        try:
            claimed = await self.work_once()
            self._failures = 0
        except Exception as error:
            self._failures += 1
            log.warning("verification worker pass failed (%d): %r", self._failures, error)
            await asyncio.sleep(min(0.2 * 2**self._failures, 5.0))
            return
        if claimed >= self.batch_size:
            return
        wait = self.poll_interval_s
        next_due = await self.queue.next_due()
        if next_due is not None:
            wait = max(0.0, min(wait, (next_due - self.clock.now()).total_seconds()))
        if wait > 0:
            await self.queue.wait_for_wake_up(wait)

    async def work_once(self) -> int:
        """Claim, look up, decide; the number of versions claimed."""
        claims = await self.queue.claim(self.clock.now(), self.batch_size, self.lease)
        if not claims:
            return 0
        plans = {claim.id: self.verifier.plan(claim.bill_of_entry) for claim in claims}
        wanted = {lookup for plan in plans.values() for lookup in plan.lookups}
        answers = await self.registry.look_up_all(wanted)
        async with self.unit_of_work() as uow:
            ours = await uow.waiting.still_ours(claims)
            for claim in claims:
                if claim.id not in ours:
                    continue
                plan = plans[claim.id]
                failed = {
                    lookup: error
                    for lookup in plan.lookups
                    if isinstance(error := answers[lookup], RegistryUnavailable)
                }
                with continuing(claim.carrier):
                    if failed:
                        self._retry(uow, claim, failed)
                        continue
                    got: dict[Lookup, Answer] = {
                        lookup: answer
                        for lookup in plan.lookups
                        if not isinstance(answer := answers[lookup], RegistryUnavailable)
                    }
                    verdict = self.verifier.verify(plan, got)
                    uow.collect(
                        VERIFIED_STEP, (claim.ref, verdict, claim.bill_of_entry), record_verdicts
                    )
                    uow.waiting.finish(claim, self.clock.now())
        return len(claims)

    def _retry(
        self,
        uow: BisUnitOfWork,
        claim: PendingVerification,
        failed: dict[Lookup, RegistryUnavailable],
    ) -> None:
        now = self.clock.now()
        next_at = now + self.backoff.after(claim.attempt)
        error = "; ".join(f"{lookup.number}: {problem}" for lookup, problem in failed.items())
        if not claim.announced:
            uow.publish(
                BIS_VERIFICATION_PENDING,
                claim.ref.key,
                {
                    "bill_of_entry_ref": claim.ref.to_data(),
                    "reasons": reasons_data(_pending_reasons(sorted(failed), error)),
                    "lookups": [lookup.to_data() for lookup in sorted(failed)],
                    "attempts": claim.attempt,
                    "pending_since": claim.pending_since.isoformat(),
                    "next_attempt_at": next_at.isoformat(),
                },
            )
        log.warning(
            "BIS verification of %s v%d pending (attempt %d): %s",
            claim.ref.key,
            claim.ref.version,
            claim.attempt,
            error,
        )
        uow.waiting.retry(claim, next_at, error[:1000], announced=True)


def _pending_reasons(lookups: Sequence[Lookup], error: str) -> list[Reason]:
    rules = {
        LookupKind.REGISTRATION: ("BIS-CRS-1", "registration"),
        LookupKind.LICENCE: ("BIS-QCO-1", "CM/L licence"),
    }
    reasons = []
    for kind in dict.fromkeys(lookup.kind for lookup in lookups):
        rule_id, what = rules[kind]
        numbers = ", ".join(lookup.number for lookup in lookups if lookup.kind is kind)
        message = (
            f"the BIS registry did not answer ({error[:300]}): the {what} {numbers} must be "
            "checked before clearance; the BE waits as verification pending and is retried"
        )
        reasons.append(Reason.of(rule_id, message))
    return reasons
