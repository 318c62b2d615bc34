"""The BIS registry as the service layer sees it: one port, and a cache in front of it.

The port (`BisRegistry`) is what a deployment points at the real BIS source;
locally and in tests it is the HTTP adapter against the registry server
(`deploy/bis-registry`), in unit tests an in-memory one. The cache keeps each
answer with the instant it was read (the service clock), and hands out only
answers younger than `max_age`: the status used for a decision is the status at
the time of clearance (CBIC Instruction 07/2025 para 3), give or take that age.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta
from typing import Protocol

from clearance_runtime.clock import Clock

from bis_verifier.domain.registry import Answer, Lookup
from bis_verifier.service_layer import metrics


class RegistryUnavailable(Exception):
    """The registry did not answer (down, timing out, failing, or the circuit is open)."""


class BisRegistry(Protocol):
    async def look_up(self, lookup: Lookup) -> Answer:
        """The registry's answer now (Found or NotFound, stamped with when it was read);
        RegistryUnavailable when it does not answer."""
        ...


class CachedRegistry:
    """Answers no older than `max_age` by the service clock; a bounded number kept."""

    def __init__(
        self,
        source: BisRegistry,
        clock: Clock,
        max_age: timedelta,
        *,
        concurrency: int = 8,
        max_entries: int = 50_000,
        service: str = "bis-verifier",
    ) -> None:
        self.source = source
        self.clock = clock
        self.max_age = max_age
        self.max_entries = max_entries
        self.service = service
        self._answers: dict[Lookup, Answer] = {}
        self._limit = asyncio.Semaphore(concurrency)

    def __len__(self) -> int:
        return len(self._answers)

    def fresh(self, lookup: Lookup, *, counted: bool = True) -> Answer | None:
        """The cached answer if it is young enough to decide on, else None. Counted
        (hit, stale, miss) once per lookup a registered version needs: the worker's
        second look is not."""
        answer = self._answers.get(lookup)
        result = "hit"
        if answer is None:
            result = "miss"
        elif self.clock.now() - answer.read_at > self.max_age:
            answer, result = None, "stale"
        if counted:
            metrics.REGISTRY_CACHE.labels(self.service, lookup.kind.value, result).inc()
        return answer

    def fresh_all(self, lookups: Iterable[Lookup], *, counted: bool = True) -> dict[Lookup, Answer]:
        """The fresh answers among `lookups` (the others are missing from the result)."""
        found = {}
        for lookup in lookups:
            answer = self.fresh(lookup, counted=counted)
            if answer is not None:
                found[lookup] = answer
        return found

    async def look_up_all(
        self, lookups: Iterable[Lookup]
    ) -> dict[Lookup, Answer | RegistryUnavailable]:
        """Every lookup answered: from the cache when fresh, else from the registry
        (a bounded number of calls at once). Never inside a database transaction."""
        wanted = set(lookups)
        answers: dict[Lookup, Answer | RegistryUnavailable] = dict(
            self.fresh_all(wanted, counted=False)
        )

        async def one(lookup: Lookup) -> None:
            async with self._limit:
                try:
                    answer = await self.source.look_up(lookup)
                except RegistryUnavailable as error:
                    answers[lookup] = error
                    return
            self._keep(lookup, answer)
            answers[lookup] = answer

        await asyncio.gather(*(one(lookup) for lookup in wanted - answers.keys()))
        return answers

    def _keep(self, lookup: Lookup, answer: Answer) -> None:
        if len(self._answers) >= self.max_entries:
            for old in sorted(self._answers, key=lambda k: self._answers[k].read_at)[
                : self.max_entries // 10 or 1
            ]:
                del self._answers[old]
        self._answers[lookup] = answer
