"""Publish a load through the broker and time each message to its terminal record.

The same measurement serves the pipeline (publish to the intake topic, listen
to e-Gatepass, rejection and hold) and the bare relay baseline (publish to
hop 0, listen to hop 4). The listener is positioned at the end offsets of the
terminal topics before the first message is sent, and stamps each record with
its own monotonic clock on receipt, the same clock the publisher stamps the
submission with.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from clearance_runtime.envelope import CloudEvent
from clearance_runtime.kafka import client_options, idempotent_producer

from clearance_bench.sampling import Sample, Sampler, Watched
from clearance_bench.workload import Filing

FILED = "icegate.bill-of-entry.filed.v1"
LOAD_GENERATOR_SOURCE = "/icegate/bench-load-generator"
Log = Callable[[str], None]


@dataclass(frozen=True)
class Message:
    """One record as published: key, value and headers, encoded before the clock starts."""

    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    topic: str = FILED


def encode(filings: Sequence[Filing]) -> list[Message]:
    """Each filing as the CloudEvent an ICEGATE-style upstream publishes."""
    messages = []
    for filing in filings:
        event = CloudEvent.new(FILED, LOAD_GENERATOR_SOURCE, filing.key, filing.bill_of_entry)
        messages.append(
            Message(event.kafka_key(), event.kafka_value(), tuple(event.kafka_headers()))
        )
    return messages


def encode_event(event_type: str, key: str, data: dict[str, Any], source: str) -> Message:
    """Another party's event (directory, arrival, payment) as its owner publishes it."""
    event = CloudEvent.new(event_type, source, key, data)
    return Message(
        event.kafka_key(), event.kafka_value(), tuple(event.kafka_headers()), topic=event_type
    )


@dataclass(frozen=True)
class Schedule:
    """burst: as fast as the producer takes them; steady: open loop at `rate` per second."""

    mode: str
    rate: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("burst", "steady"):
            raise ValueError(f"unknown mode {self.mode!r}")
        if self.mode == "steady" and not (self.rate and self.rate > 0):
            raise ValueError("a steady schedule needs a positive rate")


@dataclass(frozen=True)
class Arrival:
    kind: str
    received_at: float  # monotonic, on receipt by the listener
    broker_timestamp_ms: int  # the terminal record's Kafka timestamp (CreateTime, wall clock)


@dataclass
class Measurement:
    """Everything one run recorded; `report.py` turns it into numbers."""

    label: str
    schedule: Schedule
    keys: list[bytes]
    payload_bytes: list[int]
    submitted_at: list[float] = field(default_factory=list)  # monotonic; scheduled time if steady
    sent_at: list[float] = field(default_factory=list)  # monotonic, when send() was called
    acked_at: list[float | None] = field(default_factory=list)
    arrivals: dict[bytes, Arrival] = field(default_factory=dict)
    duplicates: int = 0
    started_at: float = 0.0  # monotonic: the first submission (burst) or the schedule's t0
    published_at: float = 0.0  # monotonic: the last broker acknowledgement
    finished_at: float = 0.0  # monotonic: when waiting ended (all terminal, timeout or stall)
    wall_at_start: float = 0.0  # time.time() at `started_at`, to compare with broker timestamps
    timed_out: bool = False
    samples: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return len(self.keys) - len(self.arrivals)

    def wall(self, monotonic: float) -> float:
        return self.wall_at_start + (monotonic - self.started_at)


async def topic_partitions(bootstrap: str, topics: Sequence[str]) -> dict[str, int]:
    """The partition count of each of `topics` that exists."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=10000,
        **client_options(),
    )
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return {
        str(t["topic"]): len(t["partitions"])
        for t in described
        if t["error_code"] == 0 and t["partitions"]
    }


class TerminalListener:
    """Records the first terminal record of each expected key; counts the extra ones."""

    def __init__(self, bootstrap: str, kinds: Mapping[str, str], measurement: Measurement) -> None:
        self.bootstrap = bootstrap
        self.kinds = dict(kinds)  # topic -> terminal kind
        self.measurement = measurement
        self.expected = set(measurement.keys)
        self.progress = asyncio.Event()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            **client_options(),
            enable_auto_commit=False,
            fetch_max_wait_ms=20,
            client_id=f"bench-listener-{measurement.label}",
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Assign every partition of the terminal topics at its end offset, then listen."""
        counts = await topic_partitions(self.bootstrap, list(self.kinds))
        missing = [topic for topic in self.kinds if topic not in counts]
        if missing:
            raise RuntimeError(f"topics do not exist: {', '.join(missing)}")
        await self._consumer.start()
        partitions = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
        self._consumer.assign(partitions)
        for tp, offset in (await self._consumer.end_offsets(partitions)).items():
            self._consumer.seek(tp, offset)
        for tp in partitions:  # positions resolved now, before anything is published
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._run(), name=f"listener-{self.measurement.label}")

    async def _run(self) -> None:
        m = self.measurement
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=5000)
            now = time.monotonic()
            for tp, records in batches.items():
                kind = self.kinds[tp.topic]
                for record in records:
                    key = record.key
                    if key not in self.expected:
                        continue  # other traffic on the shared topics
                    if key in m.arrivals:
                        m.duplicates += 1
                        continue
                    m.arrivals[key] = Arrival(kind, now, int(record.timestamp))
            if batches:
                self.progress.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


async def publish(
    producer: AIOKafkaProducer,
    topic: str,
    messages: Sequence[Message],
    m: Measurement,
    companions: Sequence[Message | None] = (),
) -> None:
    """Send every message on the schedule; never waits for an answer before the next send.
    A message's companion (its payment) follows it at once, on its own topic, untimed."""
    count = len(messages)
    m.submitted_at = [0.0] * count
    m.sent_at = [0.0] * count
    m.acked_at = [None] * count
    futures: list[asyncio.Future[Any]] = []

    def acked(index: int) -> Callable[[asyncio.Future[Any]], None]:
        def done(_: asyncio.Future[Any]) -> None:
            m.acked_at[index] = time.monotonic()

        return done

    start = time.monotonic()
    if m.schedule.mode == "steady":
        start += 0.2  # the first send is scheduled a moment ahead, not late from the start
    m.started_at, m.wall_at_start = start, time.time() + (start - time.monotonic())
    interval = 1 / m.schedule.rate if m.schedule.rate else 0.0
    for index, message in enumerate(messages):
        if m.schedule.mode == "steady":
            due = start + index * interval
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            m.submitted_at[index] = due  # latency counts from when it was due, not when sent
        else:
            m.submitted_at[index] = time.monotonic()
        m.sent_at[index] = time.monotonic()
        future = await producer.send(
            topic, value=message.value, key=message.key, headers=list(message.headers)
        )
        future.add_done_callback(acked(index))
        futures.append(future)
        companion = companions[index] if index < len(companions) else None
        if companion is not None:
            futures.append(
                await producer.send(
                    companion.topic,
                    value=companion.value,
                    key=companion.key,
                    headers=list(companion.headers),
                )
            )
    if m.schedule.mode == "burst":
        m.started_at = m.submitted_at[0] if count else start
        m.wall_at_start = time.time() - (time.monotonic() - m.started_at)
    await asyncio.gather(*futures)
    m.published_at = time.monotonic()


async def measure(
    *,
    label: str,
    bootstrap: str,
    publish_topic: str,
    terminal_kinds: Mapping[str, str],
    messages: Sequence[Message],
    schedule: Schedule,
    watched: Sequence[Watched],
    timeout_s: float,
    stall_s: float = 60.0,
    log: Log = print,
    companions: Sequence[Message | None] = (),
    on_start: Callable[[Measurement], None] | None = None,
) -> Measurement:
    """Publish `messages`, wait until each has a terminal record (or timeout/stall), sample.
    `on_start` gets the measurement as it begins (the fault suite watches its progress)."""
    m = Measurement(
        label=label,
        schedule=schedule,
        keys=[message.key for message in messages],
        payload_bytes=[len(message.value) for message in messages],
    )
    if on_start is not None:
        on_start(m)
    listener = TerminalListener(bootstrap, terminal_kinds, m)
    await listener.start()
    sampler = Sampler(watched)
    await sampler.start()
    producer = idempotent_producer(bootstrap, f"bench-load-generator-{label}")
    await producer.start()
    await producer.partitions_for(publish_topic)  # metadata now, not on the first timed send
    try:
        publishing = asyncio.create_task(publish(producer, publish_topic, messages, m, companions))
        await _wait_for_terminals(m, listener, sampler, publishing, timeout_s, stall_s, log)
        await publishing
    finally:
        m.finished_at = time.monotonic()
        await asyncio.sleep(1.0)  # one more second of samples: lag and backlog settle to zero
        await producer.stop()
        await listener.stop()
        m.samples = await sampler.stop()
    return m


async def _wait_for_terminals(
    m: Measurement,
    listener: TerminalListener,
    sampler: Sampler,
    publishing: asyncio.Task[None],
    timeout_s: float,
    stall_s: float,
    log: Log,
) -> None:
    begun = time.monotonic()
    last_count, last_progress, last_log = 0, begun, begun
    total = len(m.keys)
    while len(m.arrivals) < total:
        listener.progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listener.progress.wait(), timeout=0.5)
        now = time.monotonic()
        if publishing.done() and publishing.exception() is not None:
            raise publishing.exception() or RuntimeError("publishing failed")
        if len(m.arrivals) != last_count:
            last_count, last_progress = len(m.arrivals), now
        if now - last_log >= 2.0:
            last_log = now
            log(f"  {m.label}: {_progress(m, sampler.latest())}")
        if now - begun > timeout_s:
            m.timed_out = True
            m.notes.append(f"timed out after {timeout_s:.0f}s with {m.missing} BEs not terminal")
            break
        if publishing.done() and now - last_progress > stall_s:
            m.timed_out = True
            m.notes.append(f"no terminal event for {stall_s:.0f}s; {m.missing} BEs not terminal")
            break
    log(f"  {m.label}: {_progress(m, sampler.latest())}")


def _progress(m: Measurement, sample: Sample | None) -> str:
    sent = sum(1 for t in m.sent_at if t)
    text = f"{sent}/{len(m.keys)} sent, {len(m.arrivals)} terminal"
    if sample is not None and sample.consumer_lag:
        lag = ", ".join(f"{name} {int(value)}" for name, value in sample.consumer_lag.items())
        text += f"; lag {lag}"
    return text


async def publish_reference(bootstrap: str, messages: Sequence[Message]) -> None:
    """Publish reference facts (the directory, the arrivals) before the clock starts."""
    producer = idempotent_producer(bootstrap, "bench-reference-data")
    await producer.start()
    try:
        futures = [
            await producer.send(m.topic, value=m.value, key=m.key, headers=list(m.headers))
            for m in messages
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def wait_consumed(
    bootstrap: str, group: str, topics: Sequence[str], timeout_s: float = 300, log: Log = print
) -> None:
    """Until consumer group `group` has committed every record of `topics` (be-intake has
    the directory and the arrivals before the first filing)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=10000, **client_options()
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **client_options()
    )
    await admin.start()
    await consumer.start()
    try:
        counts = await topic_partitions(bootstrap, topics)
        partitions = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + timeout_s
        while True:
            committed = await admin.list_consumer_group_offsets(group)
            behind = sum(
                max(end - (committed[tp].offset if tp in committed else 0), 0)
                for tp, end in ends.items()
            )
            if behind == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{group} is {behind} records behind on {', '.join(topics)}")
            log(f"  reference data: {group} {behind} records behind")
            await asyncio.sleep(1.0)
    finally:
        await consumer.stop()
        await admin.close()
