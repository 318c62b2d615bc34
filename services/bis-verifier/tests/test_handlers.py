"""bis-verifier's handlers and verification worker with fakes: verified at once when the
registry's answers are cached and fresh, else parked and verified by the worker; a
registry outage leaves the BE pending (announced once), never passed unverified."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from bis_cases import Cases, FakeBisUnitOfWork, FakeSamples, FakeVerifications, FakeWaiting
from bis_verifier.adapters.registry_http import InMemoryRegistry
from bis_verifier.domain.registry import Lookup, LookupKind
from bis_verifier.service_layer.handlers import Verifier, handlers
from bis_verifier.service_layer.registry import CachedRegistry
from bis_verifier.service_layer.worker import VerificationWorker
from clearance_contracts import (
    BILL_OF_ENTRY_REGISTERED,
    BIS_SAMPLE_CONCLUDED,
    BIS_VERIFICATION_COMPLETED,
    BIS_VERIFICATION_PENDING,
    EXAMINATION_COMPLETED,
    SAMPLE_TEST_REPORTED,
    example,
)
from clearance_runtime.clock import ControllableClock
from clearance_runtime.deliveries import Backoff
from clearance_runtime.testing import event

pytestmark = pytest.mark.unit
DAHUA = Lookup(LookupKind.REGISTRATION, "R-41087785")


class Service:
    """The handler table and the worker over fakes, sharing one cache and one registry."""

    def __init__(self, new_uow: Callable[[], FakeBisUnitOfWork], clock: ControllableClock):
        self.new_uow = new_uow
        self.clock = clock
        self.registry = InMemoryRegistry(clock, Cases.records())
        self.cache = CachedRegistry(self.registry, clock, timedelta(minutes=5))
        verifier = Verifier(Cases.policies())
        self.handlers = handlers(verifier, self.cache)
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.waiting: FakeWaiting = new_uow().waiting

        def unit_of_work() -> Any:
            return _Committing(self)

        self.worker = VerificationWorker(
            queue=self.waiting,
            unit_of_work=unit_of_work,
            registry=self.cache,
            verifier=verifier,
            clock=clock,
            backoff=Backoff(first_s=1.0, max_s=30.0),
        )

    async def handle(self, event_type: str, data: dict[str, Any]) -> None:
        uow = self.new_uow()
        await self.handlers[event_type](event(event_type, data), uow)
        await uow.commit()
        self.published += [(e.type, e.data) for e in uow.published]

    def events_of(self, event_type: str) -> list[dict[str, Any]]:
        return [data for kind, data in self.published if kind == event_type]


class _Committing:
    """`async with` a fake unit of work that commits on exit, as the SQL one does."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.uow = service.new_uow()

    async def __aenter__(self) -> FakeBisUnitOfWork:
        return self.uow

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is None:
            await self.uow.commit()
            self.service.published += [(e.type, e.data) for e in self.uow.published]


@pytest.fixture
def service(new_uow: Callable[[], FakeBisUnitOfWork], clock: ControllableClock) -> Service:
    return Service(new_uow, clock)


def registered(be: dict[str, Any] | None = None, version: int = 1) -> dict[str, Any]:
    data = copy.deepcopy(example(BILL_OF_ENTRY_REGISTERED))
    if be is not None:
        data["bill_of_entry"] = be
        data["bill_of_entry_ref"].update({k: be[k] for k in ("port_code", "be_no", "be_date")})
    data["bill_of_entry_ref"]["version"] = version
    return data


async def test_a_be_whose_registrations_are_not_cached_is_parked_then_verified(
    service: Service, waiting: FakeWaiting, verifications: FakeVerifications
) -> None:
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered())
    assert service.events_of(BIS_VERIFICATION_COMPLETED) == []
    assert waiting.states() == ["pending"]
    assert service.registry.calls == []  # no HTTP in the consumer's transaction

    assert await service.worker.work_once() == 1
    [verdict] = service.events_of(BIS_VERIFICATION_COMPLETED)
    assert verdict["verdict"] == "passed"
    assert verdict["catalogue"] == {"policy_id": "bis-coverage-catalogue", "version": 1}
    assert verdict["registry_snapshot_at"] == service.clock.now().isoformat()
    assert len(verdict["items"]) == 5
    assert service.registry.calls == [DAHUA]
    assert waiting.states() == ["verified"]
    assert [ref.version for ref in verifications.rows] == [1]


async def test_a_be_whose_answers_are_cached_and_fresh_is_verified_at_once(
    service: Service, waiting: FakeWaiting
) -> None:
    await service.cache.look_up_all([DAHUA])
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered())
    assert [v["verdict"] for v in service.events_of(BIS_VERIFICATION_COMPLETED)] == ["passed"]
    assert waiting.rows == {}


async def test_a_cached_status_older_than_the_maximum_age_is_asked_again(
    service: Service, waiting: FakeWaiting, clock: ControllableClock
) -> None:
    """The status used is the status at clearance, give or take the configured age."""
    await service.cache.look_up_all([DAHUA])
    clock.advance(timedelta(minutes=5, seconds=1))
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered())
    assert service.events_of(BIS_VERIFICATION_COMPLETED) == []
    await service.worker.work_once()
    [verdict] = service.events_of(BIS_VERIFICATION_COMPLETED)
    assert verdict["registry_snapshot_at"] == clock.now().isoformat()
    assert service.registry.calls == [DAHUA, DAHUA]


async def test_a_be_with_nothing_covered_needs_no_registry(
    service: Service, waiting: FakeWaiting
) -> None:
    be = Cases.with_items(Cases.filing(), cth="29051100", description="METHANOL IN BULK")
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered(be))
    [verdict] = service.events_of(BIS_VERIFICATION_COMPLETED)
    assert verdict["verdict"] == "not_applicable"
    assert verdict["registry_snapshot_at"] is None
    assert waiting.rows == {}


async def test_a_registry_outage_leaves_the_be_pending_until_it_answers(
    service: Service, waiting: FakeWaiting, clock: ControllableClock
) -> None:
    """Never passed unverified: pending (announced once), retried with backoff, then
    verified when the registry answers again."""
    service.registry.down = True
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered())
    await service.worker.work_once()
    [pending] = service.events_of(BIS_VERIFICATION_PENDING)
    assert pending["lookups"] == [{"kind": "registration", "number": "R-41087785"}]
    assert pending["reasons"][0]["rule_id"] == "BIS-CRS-1"
    assert pending["attempts"] == 1
    assert pending["next_attempt_at"] == (clock.now() + timedelta(seconds=1)).isoformat()
    assert service.events_of(BIS_VERIFICATION_COMPLETED) == []

    assert await service.worker.work_once() == 0  # not due yet
    clock.advance(timedelta(seconds=1))
    assert await service.worker.work_once() == 1  # due, still down: backoff doubles
    assert [row.next_at for row in waiting.rows.values()] == [clock.now() + timedelta(seconds=2)]
    assert len(service.events_of(BIS_VERIFICATION_PENDING)) == 1  # announced once

    service.registry.down = False
    clock.advance(timedelta(seconds=2))
    await service.worker.work_once()
    [verdict] = service.events_of(BIS_VERIFICATION_COMPLETED)
    assert verdict["verdict"] == "passed"
    assert waiting.states() == ["verified"]


async def test_a_newer_version_supersedes_an_older_one_still_waiting(
    service: Service, waiting: FakeWaiting, verifications: FakeVerifications
) -> None:
    """Re-verification per version: v2 (amended, now with nothing covered) is decided at
    once; the waiting v1 is superseded and never published."""
    service.registry.down = True
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered(version=1))
    await service.worker.work_once()
    amended = Cases.with_items(Cases.filing(), cth="29051100", description="METHANOL")
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered(amended, version=2))
    assert waiting.states() == ["superseded"]
    service.registry.down = False
    service.clock.advance(timedelta(minutes=1))
    assert await service.worker.work_once() == 0
    assert [
        v["bill_of_entry_ref"]["version"] for v in service.events_of(BIS_VERIFICATION_COMPLETED)
    ] == [2]


async def test_each_version_gets_its_verdict_and_a_late_one_none(
    service: Service, verifications: FakeVerifications
) -> None:
    await service.cache.look_up_all([DAHUA])
    for version in (2, 1, 3):
        await service.handle(BILL_OF_ENTRY_REGISTERED, registered(version=version))
    published = [
        v["bill_of_entry_ref"]["version"] for v in service.events_of(BIS_VERIFICATION_COMPLETED)
    ]
    assert published == [2, 3]
    assert sorted(ref.version for ref in verifications.rows) == [2, 3]


async def test_toys_clear_conditionally_and_a_lab_pass_concludes_conforming(
    service: Service, samples: FakeSamples
) -> None:
    """BIS-QCO-3: conditional verdict with samples; the laboratory's pass lifts the
    restriction (clearance.bis-sample.concluded.v1, conforming)."""
    be = Cases.toys_filing()
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered(be))
    await service.worker.work_once()
    [verdict] = service.events_of(BIS_VERIFICATION_COMPLETED)
    assert verdict["verdict"] == "conditional"
    assert verdict["sampling"]["items"] == [1, 2]
    [case] = samples.cases.values()
    assert case.awaiting == [1, 2]

    await service.handle(SAMPLE_TEST_REPORTED, _lab_report(be, {1: "pass"}))
    assert service.events_of(BIS_SAMPLE_CONCLUDED) == []  # item 2 still awaited
    await service.handle(SAMPLE_TEST_REPORTED, _lab_report(be, {2: "pass"}))
    [concluded] = service.events_of(BIS_SAMPLE_CONCLUDED)
    assert concluded["outcome"] == "conforming"
    assert concluded["reasons"][0]["rule_id"] == "BIS-QCO-3"
    assert "sale restriction is lifted" in concluded["reasons"][0]["message"]


async def test_a_lab_fail_concludes_non_conforming_at_once(service: Service) -> None:
    be = Cases.toys_filing()
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered(be))
    await service.worker.work_once()
    await service.handle(SAMPLE_TEST_REPORTED, _lab_report(be, {2: "fail"}))
    [concluded] = service.events_of(BIS_SAMPLE_CONCLUDED)
    assert concluded["outcome"] == "non_conforming"
    assert concluded["items"] == [{"item_sl_no": 2, "outcome": "non_conforming"}]
    assert "re-exported or destroyed" in concluded["reasons"][0]["message"]
    await service.handle(SAMPLE_TEST_REPORTED, _lab_report(be, {1: "pass"}))
    assert len(service.events_of(BIS_SAMPLE_CONCLUDED)) == 1  # concluded for good


async def test_cro_goods_sampled_at_examination_take_the_same_path(
    service: Service, verifications: FakeVerifications, samples: FakeSamples
) -> None:
    """Instruction 28/2023, RMS-SAMPLE-1: RMS picks CRO goods at random; the sample drawn at
    examination waits for the laboratory like a toy's; the conclusion names the newest
    version."""
    await service.cache.look_up_all([DAHUA])
    await service.handle(BILL_OF_ENTRY_REGISTERED, registered(version=2))
    examined = copy.deepcopy(example(EXAMINATION_COMPLETED))
    examined.update(outcome="samples_drawn", samples=[1])
    await service.handle(EXAMINATION_COMPLETED, examined)
    [case] = samples.cases.values()
    assert case.awaiting == [1]
    report = copy.deepcopy(example(SAMPLE_TEST_REPORTED))
    await service.handle(SAMPLE_TEST_REPORTED, report)
    [concluded] = service.events_of(BIS_SAMPLE_CONCLUDED)
    assert concluded["outcome"] == "conforming"
    assert concluded["bill_of_entry_ref"]["version"] == 2
    assert concluded["reasons"][0]["rule_id"] == "RMS-SAMPLE-1"


async def test_an_examination_without_samples_draws_none(
    service: Service, samples: FakeSamples
) -> None:
    examined = copy.deepcopy(example(EXAMINATION_COMPLETED))
    examined.update(outcome="no_discrepancy", samples=[])
    await service.handle(EXAMINATION_COMPLETED, examined)
    assert samples.cases == {}


def _lab_report(be: dict[str, Any], results: dict[int, str]) -> dict[str, Any]:
    report = copy.deepcopy(example(SAMPLE_TEST_REPORTED))
    report["bill_of_entry_ref"] = {
        **{k: be[k] for k in ("port_code", "be_no", "be_date")},
        "version": 1,
    }
    report["results"] = [
        {"item_sl_no": n, "outcome": outcome, "standards": ["IS 9873 (Part 1)"]}
        for n, outcome in results.items()
    ]
    return report
