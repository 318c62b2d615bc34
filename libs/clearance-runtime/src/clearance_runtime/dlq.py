"""Dead letters back onto their topic, once their cause is fixed.

`replay` reads a dead-letter topic from its start to its current end and
publishes the records it selects (by consumer, key, reason) to the topic each
came from, with the original key, value and headers, marked
`dlq_replayed_from`. The consumer that gave up on a record handles it afresh;
every other consumer of that topic already has its id in the inbox and drops
it, and so does the first consumer if the same dead letter is replayed twice:
replaying is safe to repeat.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from clearance_runtime.dead_letter import DLQ_HEADERS
from clearance_runtime.kafka import KafkaSecurity, client_options, idempotent_producer

REPLAYED_FROM = "dlq_replayed_from"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: str | None
    original_topic: str
    consumer: str
    reason: str

    @classmethod
    def of(cls, record: Any) -> DeadLetter:
        headers = {name: raw.decode("utf-8", "replace") for name, raw in record.headers or ()}
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=None if record.key is None else record.key.decode("utf-8", "replace"),
            original_topic=headers.get("dlq_original_topic", record.topic.removesuffix(".dlq")),
            consumer=headers.get("dlq_consumer", ""),
            reason=headers.get("dlq_reason", ""),
        )


Select = Callable[[DeadLetter], bool]


async def replay(
    bootstrap: str,
    dlq_topic: str,
    *,
    select: Select = lambda _letter: True,
    dry_run: bool = False,
    security: KafkaSecurity | None = None,
) -> list[DeadLetter]:
    """Replay the dead letters of `dlq_topic` that `select` picks; return them.
    With `dry_run`, list them and publish nothing. Replaying writes to every service's
    topics, so `security` names an operator's principal (the local stack's Kafka admin)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        **client_options(security),
    )
    producer = idempotent_producer(bootstrap, "dlq-replayer", security)
    await consumer.start()
    await producer.start()
    chosen: list[DeadLetter] = []
    try:
        partitions = sorted(await producer.partitions_for(dlq_topic))
        async for record in _whole_topic(consumer, dlq_topic, partitions):
            letter = DeadLetter.of(record)
            if not select(letter):
                continue
            chosen.append(letter)
            if not dry_run:
                await producer.send_and_wait(
                    letter.original_topic,
                    key=record.key,
                    value=record.value,
                    headers=_original_headers(record),
                )
    finally:
        await producer.stop()
        with contextlib.suppress(Exception):
            await consumer.stop()
    return chosen


def _original_headers(record: Any) -> list[tuple[str, bytes]]:
    kept = [(n, v) for n, v in record.headers or () if n not in DLQ_HEADERS and n != REPLAYED_FROM]
    return [*kept, (REPLAYED_FROM, f"{record.topic}:{record.partition}:{record.offset}".encode())]


async def _whole_topic(
    consumer: AIOKafkaConsumer, topic: str, numbers: list[int]
) -> AsyncIterator[Any]:
    """Every record of `topic` from its start up to its end when the reading began."""
    partitions = [TopicPartition(topic, p) for p in numbers]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    remaining = {tp for tp, end in ends.items() if end > 0}
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=1000)
        for tp, records in batches.items():
            for record in records:
                if record.offset < ends[tp]:
                    yield record
            if records and records[-1].offset + 1 >= ends[tp]:
                remaining.discard(tp)
