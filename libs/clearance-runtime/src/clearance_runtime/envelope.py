"""CloudEvents 1.0 in Kafka binary mode: `ce_*` headers, JSON body, W3C trace context.

The Kafka key of every event is its subject: the Bill of Entry identity
`<port_code>/<be_no>/<be_date>`, so all events of one BE share a partition.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
_REQUIRED = ("ce_id", "ce_type", "ce_source", "ce_specversion")


class MalformedEvent(ValueError):
    """A record that cannot be read as a CloudEvent; the message says why."""


@dataclass(frozen=True, slots=True)
class CloudEvent:
    id: str
    type: str
    source: str
    subject: str
    data: dict[str, Any]
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    traceparent: str | None = None
    tracestate: str | None = None

    @classmethod
    def new(
        cls,
        type: str,
        source: str,
        subject: str,
        data: dict[str, Any],
        *,
        time: datetime | None = None,
    ) -> CloudEvent:
        return cls(
            id=str(uuid.uuid4()),
            type=type,
            source=source,
            subject=subject,
            data=data,
            time=time or datetime.now(UTC),
        )

    def with_trace(self, carrier: Mapping[str, str]) -> CloudEvent:
        return replace(
            self, traceparent=carrier.get("traceparent"), tracestate=carrier.get("tracestate")
        )

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_subject", self.subject.encode()),
            ("ce_time", self.time.isoformat().encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        if self.traceparent:
            headers.append(("traceparent", self.traceparent.encode()))
        if self.tracestate:
            headers.append(("tracestate", self.tracestate.encode()))
        return headers

    def kafka_value(self) -> bytes:
        return orjson.dumps(self.data)

    def kafka_key(self) -> bytes:
        return self.subject.encode()

    def digest(self) -> bytes:
        """What the event says (type, subject, data), for telling a redelivery of
        this event from another event that reuses its id."""
        canonical = orjson.dumps([self.type, self.subject, self.data], option=orjson.OPT_SORT_KEYS)
        return hashlib.blake2b(canonical, digest_size=16).digest()


def encode_headers(headers: Sequence[tuple[str, bytes]]) -> list[list[Any]]:
    """Kafka headers as JSON (for the outbox): text where the bytes are UTF-8 without NUL,
    `{"b64": ...}` where they are not (a dead letter keeps the bytes it got; PostgreSQL's
    jsonb cannot hold a NUL character)."""
    return [[name.replace("\x00", "\ufffd"), _header_value(raw)] for name, raw in headers]


def _header_value(raw: bytes) -> Any:
    if b"\x00" not in raw:
        try:
            return raw.decode()
        except UnicodeDecodeError:
            pass
    return {"b64": base64.b64encode(raw).decode()}


def decode_headers(encoded: Sequence[Sequence[Any]]) -> list[tuple[str, bytes]]:
    """The inverse of `encode_headers`."""
    return [
        (str(name), base64.b64decode(value["b64"]) if isinstance(value, dict) else value.encode())
        for name, value in encoded
    ]


def from_kafka(headers: Sequence[tuple[str, bytes]], value: bytes | None) -> CloudEvent:
    """Read a record as a CloudEvent or raise MalformedEvent with the reason."""
    try:
        attrs = {name: raw.decode() for name, raw in headers}
    except UnicodeDecodeError as error:
        raise MalformedEvent(f"header is not UTF-8: {error}") from error
    nul = [name for name, text in attrs.items() if "\x00" in text]
    if nul:  # no identifier or type has one, and PostgreSQL's text cannot keep it
        raise MalformedEvent(f"header {nul[0]} contains a NUL character")
    missing = [name for name in _REQUIRED if not attrs.get(name)]
    if missing:
        raise MalformedEvent(f"missing CloudEvents headers: {', '.join(missing)}")
    if attrs["ce_specversion"] != SPEC_VERSION:
        raise MalformedEvent(f"unsupported ce_specversion {attrs['ce_specversion']!r}")
    if value is None:
        raise MalformedEvent("empty body")
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise MalformedEvent(f"body is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise MalformedEvent("body is not a JSON object")
    if b"\\u0000" in value and _holds_nul(data):  # the cheap look first
        raise MalformedEvent("body holds a NUL character (\\u0000): no field may carry one")
    return CloudEvent(
        id=attrs["ce_id"],
        type=attrs["ce_type"],
        source=attrs["ce_source"],
        subject=attrs.get("ce_subject", ""),
        data=data,
        time=_parse_time(attrs.get("ce_time")),
        traceparent=attrs.get("traceparent"),
        tracestate=attrs.get("tracestate"),
    )


def _holds_nul(value: Any) -> bool:
    """Whether a NUL is in any string or key of `value` (PostgreSQL's text and jsonb
    cannot keep one, so no handler could store the event)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _parse_time(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise MalformedEvent(f"ce_time is not RFC 3339: {text!r}") from error
