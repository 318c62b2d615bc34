"""Dead-letter topics: `<topic>.dlq` keeps the original bytes, headers and the reason.

Dead letters are written through the outbox, in the transaction of the batch
that gave up on the record, under an id made of the consumer and the record's
position: a batch fetched again after a rewind does not send them twice, and
a database outage delays them rather than losing them.
"""

from __future__ import annotations

import logging
from typing import Any

from clearance_runtime import metrics
from clearance_runtime.unit_of_work import SqlUnitOfWork

log = logging.getLogger(__name__)

REASON_HEADER = "dlq_reason"
DLQ_HEADERS = (
    REASON_HEADER,
    "dlq_reason_kind",
    "dlq_consumer",
    "dlq_original_topic",
    "dlq_original_partition",
    "dlq_original_offset",
    "dlq_original_key",
)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def dead_letter(uow: SqlUnitOfWork, service: str, record: Any, *, reason: str, kind: str) -> None:
    """Queue `record`, unchanged, for its topic's DLQ, with why and from where."""
    original = [(name, raw) for name, raw in record.headers or () if name not in DLQ_HEADERS]
    headers = [
        *original,
        (REASON_HEADER, reason.encode()[:4000]),
        ("dlq_reason_kind", kind.encode()),
        ("dlq_consumer", service.encode()),
        ("dlq_original_topic", record.topic.encode()),
        ("dlq_original_partition", str(record.partition).encode()),
        ("dlq_original_offset", str(record.offset).encode()),
    ]
    key = record.key
    if key is not None and b"\x00" in key:
        # The outbox keeps keys as text, which cannot hold NUL: the DLQ record's key has
        # U+FFFD there, and the key as received travels in a header of its own.
        headers.append(("dlq_original_key", key))
        key = key.replace(b"\x00", "\ufffd".encode())
    uow.dead_letter(
        dead_letter_id=f"dlq:{service}:{record.topic}:{record.partition}:{record.offset}",
        topic=dead_letter_topic(record.topic),
        key=key,
        value=record.value,
        headers=headers,
    )


def count_dead_letter(service: str, record: Any, *, reason: str, kind: str) -> None:
    """After the commit that wrote it: the metric and the log line."""
    metrics.DEAD_LETTERS.labels(service, record.topic, kind).inc()
    log.warning(
        "dead-lettered %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason
    )
