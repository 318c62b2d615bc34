"""CloudEvents binary mode on Kafka (pure)."""

import orjson
import pytest
from clearance_runtime.envelope import (
    CloudEvent,
    MalformedEvent,
    decode_headers,
    encode_headers,
    from_kafka,
)
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

# Text without NUL: a body holding one is malformed (PostgreSQL cannot keep it).
text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | text,
    lambda children: st.lists(children) | st.dictionaries(text, children),
    max_leaves=10,
)


@given(
    data=st.dictionaries(text, json_values),
    subject=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1),
)
def test_an_event_survives_the_kafka_round_trip(data: dict[str, object], subject: str) -> None:
    event = CloudEvent.new("clearance.x.v1", "/clearance/test", subject, data).with_trace(
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    )
    again = from_kafka(event.kafka_headers(), event.kafka_value())
    assert again == event


def test_headers_follow_cloudevents_kafka_binary_mode() -> None:
    event = CloudEvent.new("t.v1", "/s", "INNSA1/1234567/2026-11-20", {"a": 1})
    headers = dict(event.kafka_headers())
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"t.v1"
    assert headers["ce_subject"] == b"INNSA1/1234567/2026-11-20"
    assert headers["content-type"] == b"application/json"
    assert event.kafka_key() == b"INNSA1/1234567/2026-11-20"


def _headers(**overrides: bytes) -> list[tuple[str, bytes]]:
    base = {"ce_specversion": b"1.0", "ce_id": b"1", "ce_type": b"t", "ce_source": b"/s"}
    return list({**base, **overrides}.items())


@pytest.mark.parametrize(
    ("headers", "value", "reason"),
    [
        ([], b"{}", "missing CloudEvents headers"),
        (_headers(ce_specversion=b"0.3"), b"{}", "unsupported ce_specversion"),
        (_headers(), b"not json", "not JSON"),
        (_headers(), b"[1, 2]", "not a JSON object"),
        (_headers(), None, "empty body"),
        (_headers(ce_id=b"\xff"), b"{}", "not UTF-8"),
        (_headers(ce_type=b"t\x00"), b"{}", "ce_type contains a NUL character"),
        (_headers(), b'{"a": [{"b": "x\\u0000"}]}', "body holds a NUL character"),
        (_headers(ce_time=b"yesterday"), b"{}", "RFC 3339"),
    ],
)
def test_malformed_records_are_refused_with_a_reason(
    headers: list[tuple[str, bytes]], value: bytes | None, reason: str
) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        from_kafka(headers, value)


def test_body_is_compact_json() -> None:
    event = CloudEvent.new("t.v1", "/s", "k", {"be_no": "1234567"})
    assert orjson.loads(event.kafka_value()) == {"be_no": "1234567"}


def test_headers_kept_in_the_outbox_carry_no_nul_and_come_back_byte_for_byte() -> None:
    """PostgreSQL's jsonb refuses NUL: a dead letter's headers with one (or not UTF-8) are
    kept as base64 and decoded to the very bytes received."""
    headers = [("ce_id", b"1"), ("ce_type", b"t\x00"), ("raw", b"\xff\x00"), ("x\x00", b"v")]
    encoded = encode_headers(headers)
    assert "\\u0000" not in orjson.dumps(encoded).decode()
    assert decode_headers(encoded)[:3] == headers[:3]
    assert decode_headers(encoded)[3] == ("x\ufffd", b"v")
