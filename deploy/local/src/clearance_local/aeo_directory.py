"""The AEO directory's bulk loader: certificates from a CSV file published as events on the
compacted reference topic `aeo-directory.aeo-certificate.recorded.v1`, as the directory
(an external party) would publish them. be-intake consumes them and keeps the directory.

    clearance-local [--profile P] aeo-directory load FILE.csv

CSV columns: certificate_no, iec, tier (T1/T2/T3/LO), entity_name, valid_from, valid_to,
suspended_from, revoked_from (ISO dates; empty for none). Lines starting with `#` are
comments. Each row is validated against the contract first; a reload publishes the same
event ids again (derived from the row), so be-intake changes nothing the second time.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from clearance_contracts import AEO_CERTIFICATE_RECORDED, validate_event
from clearance_runtime.kafka import KafkaSecurity, client_options

SAMPLE = Path(__file__).parent / "sample_data" / "aeo-directory.SAMPLE.csv"
SOURCE = "/aeo-directory/bulk-loader"
#: Its Kafka principal (an external party of the catalogue): it may write this topic alone.
PARTY = "aeo-directory"
_COLUMNS = (
    "certificate_no", "iec", "tier", "entity_name", "valid_from", "valid_to",
    "suspended_from", "revoked_from",
)  # fmt: skip
_NAMESPACE = uuid.UUID("6b1f3c1e-9b7a-4c1e-8f63-0c4a0f6e2a11")


def read_certificates(text: str, recorded_at: datetime | None = None) -> list[dict[str, Any]]:
    """The certificates of a CSV text, as event data (ValueError naming the bad line)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    at = (recorded_at or datetime.now(UTC)).isoformat()
    certificates = []
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        missing = [column for column in _COLUMNS if column not in row]
        if missing:
            raise ValueError(f"line {number}: missing columns {missing}")
        data: dict[str, Any] = {column: (row[column] or "").strip() or None for column in _COLUMNS}
        if data["entity_name"] is None:
            del data["entity_name"]
        data["recorded_at"] = at
        try:
            validate_event(AEO_CERTIFICATE_RECORDED, data)
        except Exception as error:
            raise ValueError(f"line {number}: {error}") from error
        certificates.append(data)
    return certificates


def _event_id(certificate: dict[str, Any]) -> str:
    """The same row gives the same CloudEvents id: a reload is a duplicate, dropped by id."""
    content = {k: v for k, v in certificate.items() if k != "recorded_at"}
    return str(uuid.uuid5(_NAMESPACE, json.dumps(content, sort_keys=True)))


def headers(certificate: dict[str, Any]) -> list[tuple[str, bytes]]:
    """CloudEvents 1.0, Kafka binary mode."""
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", _event_id(certificate).encode()),
        ("ce_type", AEO_CERTIFICATE_RECORDED.encode()),
        ("ce_source", SOURCE.encode()),
        ("ce_subject", certificate["certificate_no"].encode()),
        ("ce_time", certificate["recorded_at"].encode()),
        ("content-type", b"application/json"),
    ]


async def publish(
    bootstrap: str,
    certificates: Iterable[dict[str, Any]],
    security: KafkaSecurity | None = None,
) -> int:
    """Publish certificates keyed by their number (the topic is compacted by it)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        **client_options(security),
    )
    await producer.start()
    count = 0
    try:
        for certificate in certificates:
            await producer.send_and_wait(
                AEO_CERTIFICATE_RECORDED,
                value=json.dumps(certificate).encode(),
                key=certificate["certificate_no"].encode(),
                headers=headers(certificate),
            )
            count += 1
    finally:
        await producer.stop()
    return count


async def load_file(bootstrap: str, path: Path, security: KafkaSecurity | None = None) -> int:
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    return await publish(bootstrap, read_certificates(text), security)
