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
