"""The BIS registry over HTTP (httpx): the adapter behind the `BisRegistry` port.

    GET {base_url}/registrations/{R-########}   a BIS-CRS registration
    GET {base_url}/licences/{CM/L-##########}   a CM/L licence

(the API of the registry server in `deploy/bis-registry`, which stands in for the
BIS portal; a deployment points `CLEARANCE_BIS_REGISTRY_URL` at its source).
200 is an answer, 404 (and 400: not a number the registry knows) is "not in the
register"; a timeout, a refused connection, 5xx or 429 is retried with
exponential backoff, and after that the registry is unavailable. A circuit
breaker stops calling a registry that keeps failing, then lets one call probe it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any

import httpx
from clearance_runtime.clock import Clock

from bis_verifier.domain.registry import (
    Answer,
    Found,
    Licence,
    LicenceStatus,
    Lookup,
    LookupKind,
    NotFound,
    RegisteredModel,
    Registration,
    RegistrationStatus,
    index_models,
)
from bis_verifier.service_layer import metrics
from bis_verifier.service_layer.registry import RegistryUnavailable


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Open after `failures` calls in a row failed; after `reset_after_s` let one call
    through (half-open): it closes the circuit if it succeeds, reopens it if not."""

    def __init__(
        self,
        failures: int = 5,
        reset_after_s: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        service: str = "bis-verifier",
    ) -> None:
        self.threshold = failures
        self.reset_after_s = reset_after_s
        self.monotonic = monotonic
        self.service = service
        self.state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    def allow(self) -> bool:
        if self.state is CircuitState.CLOSED:
            return True
        if self.state is CircuitState.OPEN:
            if self.monotonic() - self._opened_at < self.reset_after_s:
                return False
            self.state = CircuitState.HALF_OPEN
            self._probing = False
        if self._probing:
            return False  # one probe at a time
        self._probing = True
        return True

    def succeeded(self) -> None:
        self.state, self._failures, self._probing = CircuitState.CLOSED, 0, False
        metrics.CIRCUIT_OPEN.labels(self.service).set(0)

    def failed(self) -> None:
        self._failures += 1
        self._probing = False
        if self.state is CircuitState.HALF_OPEN or self._failures >= self.threshold:
            self.state, self._opened_at = CircuitState.OPEN, self.monotonic()
            metrics.CIRCUIT_OPEN.labels(self.service).set(1)


_PATHS = {LookupKind.REGISTRATION: "/registrations/", LookupKind.LICENCE: "/licences/"}
_RETRIED = (429, 500, 502, 503, 504)


class HttpBisRegistry:
    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        *,
        retries: int = 2,
        backoff_first_s: float = 0.2,
        backoff_max_s: float = 2.0,
        breaker: CircuitBreaker | None = None,
        service: str = "bis-verifier",
    ) -> None:
        self.client = client
        self.clock = clock
        self.retries = retries
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self.breaker = breaker or CircuitBreaker(service=service)
        self.service = service

    async def look_up(self, lookup: Lookup) -> Answer:
        kind = lookup.kind.value
        if not self.breaker.allow():
            metrics.REGISTRY_CALLS.labels(self.service, kind, "circuit_open").inc()
            raise RegistryUnavailable("circuit open: the registry failed repeatedly")
        started = time.monotonic()
        try:
            answer = await self._call(lookup)
        except RegistryUnavailable:
            self.breaker.failed()
            metrics.REGISTRY_CALLS.labels(self.service, kind, "unavailable").inc()
            raise
        finally:
            metrics.REGISTRY_SECONDS.labels(self.service, kind).observe(time.monotonic() - started)
        self.breaker.succeeded()
        outcome = "found" if isinstance(answer, Found) else "not_found"
        metrics.REGISTRY_CALLS.labels(self.service, kind, outcome).inc()
        return answer

    async def _call(self, lookup: Lookup) -> Answer:
        path = _PATHS[lookup.kind] + lookup.number
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                delay = min(self.backoff_first_s * 2 ** (attempt - 1), self.backoff_max_s)
                await asyncio.sleep(delay)
            try:
                response = await self.client.get(path)
            except httpx.HTTPError as error:
                problem = f"{type(error).__name__}: {error}".strip(": ")
                continue
            if response.status_code in (400, 404):
                return NotFound(self.clock.now())
            if response.status_code in _RETRIED:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise RegistryUnavailable(f"HTTP {response.status_code} from the registry")
            try:
                return Found(_record(lookup.kind, response.json()), self.clock.now())
            except (KeyError, TypeError, ValueError) as error:
                raise RegistryUnavailable(f"unreadable answer: {error!r}") from error
        raise RegistryUnavailable(f"{problem} after {self.retries + 1} tries")


def _record(kind: LookupKind, data: Mapping[str, Any]) -> Registration | Licence:
    if kind is LookupKind.REGISTRATION:
        return registration_from_data(data)
    return licence_from_data(data)


def _date(value: Any) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value))


def registration_from_data(data: Mapping[str, Any]) -> Registration:
    """The registry's JSON answer for a registration, as the rules read it."""
    models = [
        RegisteredModel(
            model=str(m["model"]),
            included_on=_date(m.get("included_on")),
            removed=bool(m.get("removed", False)),
            removed_on=_date(m.get("removed_on")),
            stop_sale_from=_date(m.get("stop_sale_from")),
        )
        for m in data.get("models", ())
    ]
    return Registration(
        number=str(data["registration_no"]),
        status=RegistrationStatus.read(str(data["status"])),
        status_text=str(data.get("status_text") or data["status"]),
        granted_on=_date(data.get("granted_on")),
        valid_upto=_date(data.get("valid_upto")),
        manufacturer=data.get("manufacturer"),
        factory_address=str(data.get("factory_address") or ""),
        name_and_factory_address=str(data.get("name_and_factory_address") or ""),
        standards=tuple(data.get("standards", ())),
        product=str(data.get("product") or ""),
        brand=str(data.get("brand") or ""),
        models=index_models(models),
    )


def licence_from_data(data: Mapping[str, Any]) -> Licence:
    """The registry's JSON answer for a CM/L licence, as the rules read it."""
    return Licence(
        number=str(data["licence_no"]),
        status=LicenceStatus.read(str(data["status"])),
        status_text=str(data.get("status_text") or data["status"]),
        granted_on=_date(data.get("granted_on")),
        valid_upto=_date(data.get("valid_upto")),
        standards=tuple(data.get("standards", ())),
        product=str(data.get("product") or ""),
        tariff_lines=tuple(str(line) for line in data.get("tariff_lines", ())),
        licensee=str(data["licensee"]),
        factory_address=str(data.get("factory_address") or ""),
    )


class InMemoryRegistry:
    """The port over answers in memory (the registry's JSON, by lookup): for unit tests,
    the benchmark's checks and replays. `down` makes it unavailable."""

    def __init__(self, clock: Clock, records: Mapping[Lookup, Mapping[str, Any]]) -> None:
        self.clock = clock
        self.records = dict(records)
        self.down = False
        self.calls: list[Lookup] = []

    async def look_up(self, lookup: Lookup) -> Answer:
        self.calls.append(lookup)
        if self.down:
            raise RegistryUnavailable("ConnectError: registry down")
        data = self.records.get(lookup)
        if data is None:
            return NotFound(self.clock.now())
        return Found(_record(lookup.kind, data), self.clock.now())
