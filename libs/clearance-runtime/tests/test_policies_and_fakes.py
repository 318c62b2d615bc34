"""Policies chosen by date, the controllable clock, and the fake unit of work."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from clearance_contracts import example
from clearance_runtime.clock import CUSTOMS_TIMEZONE, ControllableClock, instant_of
from clearance_runtime.policies import (
    InvalidPolicy,
    PolicyKind,
    PolicyNotInForce,
    PolicyVersion,
    in_memory,
)
from clearance_runtime.testing import FakeUnitOfWork

pytestmark = pytest.mark.unit


def _days(body: Any) -> frozenset[date]:
    if not isinstance(body, list):
        raise ValueError("a holiday calendar is a list of dates")
    return frozenset(date.fromisoformat(day) for day in body)


HOLIDAYS = PolicyKind("holiday-calendar", _days, "closed holidays of a custom house")


def _version(version: int, start: str, days: list[str], until: str | None = None) -> dict[str, Any]:
    return {
        "policy_id": "holiday-calendar",
        "version": version,
        "effective_from": start,
        "effective_until": until,
        "source_document": "central-government-closed-holidays-2021-delhi.csv",
        "body": days,
    }


BOOK = in_memory(
    [HOLIDAYS],
    [
        _version(1, "2021-01-01", ["2021-01-26"]),
        _version(2, "2021-04-01", ["2021-04-02", "2021-04-21"]),
        _version(3, "2021-01-01", ["2021-01-26", "2021-03-29"]),  # a correction of v1
        _version(4, "2021-12-01", ["2021-12-25"], until="2021-12-31"),
    ],
)


@pytest.mark.parametrize(
    ("on", "version"),
    [
        (date(2021, 1, 1), 3),  # the correction wins over the version it corrects
        (date(2021, 3, 31), 3),
        (date(2021, 4, 1), 2),  # the later policy from its start, not before
        (date(2021, 12, 1), 4),
        (date(2021, 12, 31), 2),  # v4 was rescinded: the one before it again
    ],
)
def test_the_version_in_force_is_chosen_by_date(on: date, version: int) -> None:
    assert BOOK.in_force(HOLIDAYS, on).version == version


def test_a_date_is_read_as_the_start_of_the_day_in_india() -> None:
    just_before = datetime(2021, 4, 1, 0, 0, tzinfo=CUSTOMS_TIMEZONE) - timedelta(seconds=1)
    assert BOOK.in_force(HOLIDAYS, just_before).version == 3
    assert BOOK.in_force(HOLIDAYS, instant_of(date(2021, 4, 1))).version == 2
    assert date(2021, 3, 29) in BOOK.in_force(HOLIDAYS, date(2021, 3, 1)).body


def test_no_version_in_force_is_an_error_not_a_default() -> None:
    with pytest.raises(PolicyNotInForce):
        BOOK.in_force(HOLIDAYS, date(2020, 12, 31))


def test_a_body_its_kind_cannot_read_is_refused() -> None:
    version = PolicyVersion.from_data(_version(9, "2022-01-01", ["not a date"]))
    with pytest.raises(InvalidPolicy):
        BOOK.typed(version, 9, "admin:test")
    with pytest.raises(InvalidPolicy):
        PolicyVersion.from_data({"policy_id": "holiday-calendar"})


def test_a_controllable_clock_moves_only_when_told_and_tells_its_listeners() -> None:
    start = datetime(2021, 2, 1, 9, 0, tzinfo=UTC)
    clock = ControllableClock(start)
    moved: list[datetime] = []
    clock.on_change(lambda: moved.append(clock.now()))
    assert clock.now() == start
    clock.advance(timedelta(days=31))
    clock.set(datetime(2021, 6, 1, tzinfo=UTC))
    assert moved == [start + timedelta(days=31), datetime(2021, 6, 1, tzinfo=UTC)]
    running = ControllableClock(start, frozen=False)
    assert running.now() > start - timedelta(seconds=1)
    assert abs(running.offset - (start - datetime.now(UTC))) < timedelta(seconds=5)


class _Case:
    def __init__(self) -> None:
        self.events: list[Any] = []


async def test_the_fake_unit_of_work_commits_what_a_handler_causes() -> None:
    published: list[str] = []

    def render(uow: Any, event: Any) -> None:
        published.append(event)
        uow.publish(
            "clearance.out-of-charge.held.v1",
            "INNSA1/2345711/2025-03-22",
            example("clearance.out-of-charge.held.v1"),
        )

    uow = FakeUnitOfWork(render_events=render)
    case = _Case()
    case.events.append("held")
    uow.track(case)
    uow.track(case)  # tracked once
    uow.schedule("ack-deadline", "k", uow.clock.now())
    uow.cancel("ack-deadline", "k")
    uow.deliver("CUSTODIAN-1", "e-gatepass", {"n": 1}, delivery_id="d-1")
    uow.deliver("CUSTODIAN-1", "e-gatepass", {"n": 1}, delivery_id="d-1")
    await uow.commit()
    assert published == ["held"]
    assert len(uow.events_of("clearance.out-of-charge.held.v1")) == 1
    assert uow.pending_timers() == []
    assert [d.delivery_id for d in uow.deliveries] == ["d-1"]


async def test_a_batch_whose_partition_was_revoked_meanwhile_is_not_committed() -> None:
    """The rebalance listener: the next owner re-reads the batch (the inbox makes that
    harmless); committing it here could skip records the next owner has not handled."""
    from types import SimpleNamespace

    from aiokafka import TopicPartition
    from clearance_runtime.consumer import EventConsumer

    kept, revoked = TopicPartition("t", 0), TopicPartition("t", 1)
    committed: list[dict[Any, Any]] = []

    class Consumer:
        async def commit(self, offsets: dict[Any, Any]) -> None:
            committed.append(offsets)

    consumer: EventConsumer[Any] = EventConsumer(
        service="test",
        consumer=Consumer(),  # type: ignore[arg-type]
        handlers={},
        unit_of_work=None,  # type: ignore[arg-type]
        engine=None,  # type: ignore[arg-type]
    )

    async def handle_group(group: Any) -> None:
        await consumer.revocations.on_partitions_revoked([revoked])  # a rebalance meanwhile

    consumer._process_group = handle_group  # type: ignore[method-assign]
    record = SimpleNamespace(offset=41)
    await consumer._process({kept: [record], revoked: [record]})
    assert [list(offsets) for offsets in committed] == [[kept]]


async def test_dead_letter_topics_do_not_fold_every_partition_into_one_group() -> None:
    """A consumer of the one-partition `.dlq` topics beside three-partition event topics
    keeps one transaction per partition number (run concurrently) and gives the dead
    letters one of their own, unless it asks for one transaction per fetch."""
    from aiokafka import TopicPartition
    from clearance_runtime.consumer import EventConsumer

    class Producer:
        async def partitions_for(self, topic: str) -> set[int]:
            return {0} if topic.endswith(".dlq") else {0, 1, 2}

    async def noop(*_: Any) -> None:
        return None

    consumer: EventConsumer[Any] = EventConsumer(
        service="test",
        consumer=None,  # type: ignore[arg-type]
        handlers={"a.v1": noop, "b.v1": noop},
        raw_handlers={"a.v1.dlq": noop},
        unit_of_work=None,  # type: ignore[arg-type]
        engine=None,  # type: ignore[arg-type]
    )
    await consumer.check_partitions(Producer())  # type: ignore[arg-type]
    partitions = [TopicPartition(t, p) for t in ("a.v1", "b.v1") for p in range(3)]
    partitions.append(TopicPartition("a.v1.dlq", 0))
    groups = {tp: consumer._group_of(tp) for tp in partitions}
    assert consumer.group_by_partition
    assert groups == {tp: -1 if tp.topic.endswith(".dlq") else tp.partition for tp in groups}
    # be-intake's choice (CLEARANCE_CONSUMER_TRANSACTION=fetch): one transaction for all.
    consumer.one_transaction_per_fetch = True
    assert {consumer._group_of(tp) for tp in partitions} == {0}


def test_start_up_objects_leave_the_collectors_sight_and_young_collections_are_rarer() -> None:
    """Issue 18: the service's start-up objects are frozen and the young generation is
    collected every `gc_young_threshold` allocations (0 keeps CPython's default)."""
    import gc

    from clearance_runtime.service import settle_garbage_collector

    before = gc.get_threshold()
    try:
        settle_garbage_collector(20_000)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (20_000, *before[1:])
        settle_garbage_collector(0)
        assert gc.get_threshold() == (20_000, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_only_slow_statement_spans_are_exported_and_every_hop_span_is() -> None:
    """Issue 18's documented choice (CLEARANCE_TRACE_STATEMENTS=slow, the default): a
    statement span faster than the threshold is not exported; a slow one and every
    consume/handle/publish span are."""
    from clearance_runtime.tracing import SlowStatementsOnly
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SlowStatementsOnly(SimpleSpanProcessor(exported), 50))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("process x", kind=SpanKind.CONSUMER):
        tracer.start_span("INSERT fast", attributes={"db.system": "postgresql"}).end()
        slow = tracer.start_span(
            "INSERT slow", attributes={"db.system": "postgresql"}, start_time=1_000
        )
        slow.end(end_time=1_000 + 60_000_000)  # 60 ms
        tracer.start_span("send y", kind=SpanKind.PRODUCER).end()
    assert sorted(span.name for span in exported.get_finished_spans()) == [
        "INSERT slow",
        "process x",
        "send y",
    ]
