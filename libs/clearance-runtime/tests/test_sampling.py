"""Traces start where work enters a service, never at a stray database poll."""

import pytest
from clearance_runtime.tracing import EntryPointSampler
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import SpanKind

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("kind", [SpanKind.SERVER, SpanKind.CONSUMER])
def test_entry_points_start_sampled_traces(kind: SpanKind) -> None:
    provider = TracerProvider(sampler=ParentBased(root=EntryPointSampler()))
    with provider.get_tracer("test").start_as_current_span("entry", kind=kind) as span:
        assert span.is_recording()
        with provider.get_tracer("test").start_as_current_span(
            "SELECT", kind=SpanKind.CLIENT
        ) as child:
            assert child.is_recording()  # database calls inside the work are kept


@pytest.mark.parametrize("kind", [SpanKind.CLIENT, SpanKind.INTERNAL, SpanKind.PRODUCER])
def test_a_parentless_database_or_internal_span_starts_no_trace(kind: SpanKind) -> None:
    provider = TracerProvider(sampler=ParentBased(root=EntryPointSampler()))
    with provider.get_tracer("test").start_as_current_span("poll", kind=kind) as span:
        assert not span.is_recording()


def test_spans_go_to_zipkin_as_the_same_json_document_serialised_by_orjson() -> None:
    """Issue 18: the exporter's encoder writes what Zipkin's own writes (UTF-8 bytes)."""
    import json

    from clearance_runtime.tracing import zipkin_encoder
    from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder
    from opentelemetry.exporter.zipkin.node_endpoint import NodeEndpoint
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("process", kind=SpanKind.CONSUMER) as span:
        span.set_attribute("clearance.bill_of_entry", "INNSA1/2345678/2025-03-20")
        span.set_attribute("messaging.kafka.offset", 7)
        span.add_event("note", {"summary": "dépôt ₹ 1,00,000"})
    endpoint = NodeEndpoint()
    endpoint.service_name = "be-intake"
    finished = spans.get_finished_spans()
    ours = zipkin_encoder(128).serialize(finished, endpoint)
    assert isinstance(ours, bytes)
    assert json.loads(ours) == json.loads(JsonV2Encoder(128).serialize(finished, endpoint))
