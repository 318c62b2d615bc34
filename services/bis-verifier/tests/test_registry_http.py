"""The registry adapter: the registry server's answers read, retries with backoff, the
circuit breaker, and the cache's maximum status age."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from bis_cases import Cases
from bis_verifier.adapters.registry_http import CircuitBreaker, CircuitState, HttpBisRegistry
from bis_verifier.domain.registry import (
    Found,
    Licence,
    Lookup,
    LookupKind,
    NotFound,
    Registration,
    RegistrationStatus,
)
from bis_verifier.service_layer.registry import CachedRegistry, RegistryUnavailable
from clearance_bis_registry.app import create_app
from clearance_bis_registry.licences import load_licences
from clearance_runtime.clock import ControllableClock
from prometheus_client import REGISTRY

pytestmark = pytest.mark.unit
DAHUA = Lookup(LookupKind.REGISTRATION, "R-41087785")
SUNRISE = Lookup(LookupKind.LICENCE, "CM/L-0004100062")


@pytest.fixture(scope="module")
def registry_app() -> object:
    return create_app(Cases.register(), load_licences(), snapshot="2021-02")


@pytest.fixture
def server(registry_app: object, clock: ControllableClock) -> HttpBisRegistry:
    transport = httpx.ASGITransport(app=registry_app)  # type: ignore[arg-type]
    client = httpx.AsyncClient(transport=transport, base_url="http://registry")
    return HttpBisRegistry(client, clock, retries=0)


async def test_the_registry_servers_answer_is_read(server: HttpBisRegistry) -> None:
    answer = await server.look_up(DAHUA)
    assert isinstance(answer, Found)
    registration = answer.record
    assert isinstance(registration, Registration)
    assert registration.status is RegistrationStatus.VALID
    assert registration.manufacturer == "ZHEJIANGDAHUAZHILIANCO.,LTD."
    model = registration.model("DH-HAC-HFW1400SP")
    assert model is not None
    assert str(model.included_on) == "2018-05-09"
    licence = await server.look_up(SUNRISE)
    assert isinstance(licence, Found)
    assert isinstance(licence.record, Licence)
    assert licence.record.tariff_lines == ("95030020", "95030030", "95030090")


async def test_a_number_the_registry_does_not_have_is_not_found(server: HttpBisRegistry) -> None:
    assert isinstance(await server.look_up(Lookup(LookupKind.REGISTRATION, "R-00000000")), NotFound)
    assert isinstance(await server.look_up(Lookup(LookupKind.LICENCE, "CM/L-12")), NotFound)


def _flaky(statuses: list[int]) -> tuple[httpx.AsyncClient, list[int]]:
    """A registry answering each status in turn (then 200 with Dahua's row)."""
    served: list[int] = []
    body = Cases.register()["R-41087785"].to_data()

    def respond(request: httpx.Request) -> httpx.Response:
        status = statuses.pop(0) if statuses else 200
        served.append(status)
        if status == 0:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(status, json=body if status == 200 else {"detail": "x"})

    return httpx.AsyncClient(transport=httpx.MockTransport(respond), base_url="http://r"), served


async def test_failures_are_retried_with_backoff(clock: ControllableClock) -> None:
    client, served = _flaky([503, 0])
    registry = HttpBisRegistry(client, clock, retries=2, backoff_first_s=0.001)
    assert isinstance(await registry.look_up(DAHUA), Found)
    assert served == [503, 0, 200]


async def test_a_registry_failing_every_try_is_unavailable(clock: ControllableClock) -> None:
    client, served = _flaky([503, 502, 0])
    registry = HttpBisRegistry(client, clock, retries=2, backoff_first_s=0.001)
    with pytest.raises(RegistryUnavailable, match="ConnectError: connection refused after 3 tries"):
        await registry.look_up(DAHUA)
    assert served == [503, 502, 0]


async def test_the_circuit_opens_then_one_probe_closes_it(clock: ControllableClock) -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, reset_after_s=10, monotonic=lambda: now[0])
    client, served = _flaky([500, 500])
    registry = HttpBisRegistry(client, clock, retries=0, breaker=breaker)
    for _ in range(2):
        with pytest.raises(RegistryUnavailable):
            await registry.look_up(DAHUA)
    assert breaker.state is CircuitState.OPEN
    with pytest.raises(RegistryUnavailable, match="circuit open"):
        await registry.look_up(DAHUA)
    assert served == [500, 500]  # the open circuit made no call
    now[0] = 10.0
    assert isinstance(await registry.look_up(DAHUA), Found)  # the probe
    assert breaker.state is CircuitState.CLOSED


def test_a_failed_probe_reopens_the_circuit() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=1, reset_after_s=5, monotonic=lambda: now[0])
    breaker.failed()
    assert not breaker.allow()
    now[0] = 5.0
    assert breaker.allow()
    assert not breaker.allow()  # one probe at a time
    breaker.failed()
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()


async def test_the_cache_serves_answers_no_older_than_the_maximum_age(
    server: HttpBisRegistry, clock: ControllableClock
) -> None:
    calls = []

    class Counting:
        async def look_up(self, lookup: Lookup) -> Found | NotFound:
            calls.append(lookup)
            return await server.look_up(lookup)

    cache = CachedRegistry(Counting(), clock, timedelta(minutes=5))
    first = await cache.look_up_all([DAHUA, SUNRISE])
    again = await cache.look_up_all([DAHUA])
    assert calls == [DAHUA, SUNRISE] or calls == [SUNRISE, DAHUA]
    assert again[DAHUA] is first[DAHUA]
    clock.advance(timedelta(minutes=5, seconds=1))
    assert cache.fresh(DAHUA) is None
    await cache.look_up_all([DAHUA])
    assert len(calls) == 3


async def test_the_cache_counts_each_lookup_a_version_needs_once(
    server: HttpBisRegistry, clock: ControllableClock
) -> None:
    """clearance_bis_registry_cache_total: hit / stale / miss as the consumer found the
    cache (BIS-CRS-1: status at clearance); the worker's second look is not counted."""
    cache = CachedRegistry(server, clock, timedelta(minutes=5), service="bis-cache-test")

    def counted(result: str) -> float:
        labels = {"service": "bis-cache-test", "kind": "registration", "result": result}
        return REGISTRY.get_sample_value("clearance_bis_registry_cache_total", labels) or 0.0

    assert cache.fresh_all([DAHUA]) == {}  # the consumer: a miss, so the version is parked
    await cache.look_up_all([DAHUA])  # the worker asks the registry: not counted again
    assert DAHUA in cache.fresh_all([DAHUA])
    clock.advance(timedelta(minutes=5, seconds=1))
    assert cache.fresh(DAHUA) is None
    await cache.look_up_all([DAHUA])
    assert (counted("miss"), counted("hit"), counted("stale")) == (1, 1, 1)


async def test_an_unavailable_registry_is_not_cached(clock: ControllableClock) -> None:
    client, _ = _flaky([0])
    cache = CachedRegistry(HttpBisRegistry(client, clock, retries=0), clock, timedelta(minutes=5))
    first = await cache.look_up_all([DAHUA])
    assert isinstance(first[DAHUA], RegistryUnavailable)
    second = await cache.look_up_all([DAHUA])
    assert isinstance(second[DAHUA], Found)
