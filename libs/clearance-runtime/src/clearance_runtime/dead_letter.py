"""Dead-letter topics: `<topic>.dlq` keeps the original bytes, headers and the reason."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaProducer

from clearance_runtime import metrics

log = logging.getLogger(__name__)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


class DeadLetters:
    def __init__(self, service: str, producer: AIOKafkaProducer) -> None:
        self.service = service
        self.producer = producer

    async def send(self, record: Any, *, reason: str, kind: str) -> None:
        """Publish `record` unchanged to its topic's DLQ, with why and from where.

        Awaited before the offset is committed, so a dead letter is never lost.
        """
        headers = [
            *(record.headers or ()),
            ("dlq_reason", reason.encode()[:4000]),
            ("dlq_reason_kind", kind.encode()),
            ("dlq_consumer", self.service.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
        await self.producer.send_and_wait(
            dead_letter_topic(record.topic),
            value=record.value,
            key=record.key,
            headers=headers,
        )
        metrics.DEAD_LETTERS.labels(self.service, record.topic, kind).inc()
        log.warning(
            "dead-lettered %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason
        )
