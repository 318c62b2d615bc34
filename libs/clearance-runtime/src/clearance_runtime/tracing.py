"""OpenTelemetry: one tracer provider per process, exporter chosen by `OTEL_*`.

Database spans come from the asyncpg instrumentation, not SQLAlchemy's: the
SQLAlchemy instrumentor of the 0.66 line declares `sqlalchemy < 2.1` and does
nothing on the 2.1 we lock, and instrumenting both would double every span.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

# Span attribute carrying the BE identity, so staff can search traces by BE.
BILL_OF_ENTRY_ATTRIBUTE = "clearance.bill_of_entry"


def _exporter_from_env() -> SpanExporter | None:
    """`OTEL_TRACES_EXPORTER`: zipkin, otlp, console or none (the default)."""
    name = os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",")[0].strip()
    if name == "zipkin":
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        exporter = ZipkinExporter()
        exporter.encoder = zipkin_encoder(exporter.encoder.max_tag_value_length)
        return exporter
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )

        return OTLPSpanExporter()
    if name == "console":
        return ConsoleSpanExporter()
    return None


def zipkin_encoder(max_tag_value_length: int) -> Any:
    """Zipkin's JSON v2 encoder, serialising with orjson to UTF-8 bytes: the same
    document, a third less CPU per span than the standard library's json (issue 18: the
    export thread took ~10 % of be-intake's CPU under the burst)."""
    from opentelemetry.exporter.zipkin.json.v2 import JsonV2Encoder

    class OrjsonV2Encoder(JsonV2Encoder):
        def serialize(self, spans: Sequence[Any], local_endpoint: Any) -> bytes:  # type: ignore[override]
            endpoint = self._encode_local_endpoint(local_endpoint)
            return orjson.dumps([self._encode_span(span, endpoint) for span in spans])

    return OrjsonV2Encoder(max_tag_value_length)


class EntryPointSampler(Sampler):
    """Start traces only where work enters a service: an HTTP request or a consumed
    event (SERVER, CONSUMER). A database call with no parent (the outbox relay's
    bookkeeping, health checks) starts no trace of its own: it would be noise to
    the staff searching for a BE, and cost on every poll."""

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        decision = Decision.RECORD_AND_SAMPLE if kind in _ENTRY_KINDS else Decision.DROP
        sampled = decision is Decision.RECORD_AND_SAMPLE
        return SamplingResult(decision, attributes if sampled else None)

    def get_description(self) -> str:
        return "EntryPointSampler"


_ENTRY_KINDS = (SpanKind.SERVER, SpanKind.CONSUMER)


def _sampler_from_env() -> Sampler | None:
    """The standard `OTEL_TRACES_SAMPLER` when set; else children follow their
    parent and roots start only at entry points."""
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return None  # the SDK reads it
    return ParentBased(root=EntryPointSampler())


def _statements() -> str:
    """`CLEARANCE_TRACE_STATEMENTS`: which SQL statement spans are exported. `slow` (the
    default): only those of at least `CLEARANCE_TRACE_SLOW_STATEMENT_MS` (50); `all`; or
    `off` (no statement spans at all). Every hop's spans (consume, handle, publish) are
    exported whatever it says: a BE's journey stays whole (issue 18)."""
    mode = os.environ.get("CLEARANCE_TRACE_STATEMENTS", "slow").strip().lower()
    if mode not in ("slow", "all", "off"):
        raise ValueError(f"CLEARANCE_TRACE_STATEMENTS={mode!r}: slow, all or off")
    return mode


def _exported(processor: SpanProcessor) -> SpanProcessor:
    if _statements() != "slow":
        return processor
    threshold_ms = float(os.environ.get("CLEARANCE_TRACE_SLOW_STATEMENT_MS", "50"))
    return SlowStatementsOnly(processor, threshold_ms)


class SlowStatementsOnly(SpanProcessor):
    """Hands every span to `inner` but the database statements that took less than
    `threshold_ms`: a fast statement tells operations staff nothing about a BE's journey,
    a slow one is worth its place in the trace. (In the burst a BE's trace held 0.45
    statement spans beside 21 hop spans: the saving is small, the choice is the point.)"""

    def __init__(self, inner: SpanProcessor, threshold_ms: float) -> None:
        self.inner = inner
        self.threshold_ns = int(threshold_ms * 1_000_000)

    def on_start(self, span: Any, parent_context: otel_context.Context | None = None) -> None:
        self.inner.on_start(span, parent_context)

    def on_end(self, span: Any) -> None:
        if span.attributes and "db.system" in span.attributes:
            took = (span.end_time or 0) - (span.start_time or 0)
            if took < self.threshold_ns:
                return
        self.inner.on_end(span)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def configure_tracing(service_name: str, *extra: SpanProcessor) -> TracerProvider:
    """Install the process's tracer provider (once) and the library instrumentations."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        provider = current
    else:
        provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: service_name}), sampler=_sampler_from_env()
        )
        exporter = _exporter_from_env()
        if exporter is not None:
            provider.add_span_processor(_exported(BatchSpanProcessor(exporter)))
        trace.set_tracer_provider(provider)
    for processor in extra:
        provider.add_span_processor(processor)
    asyncpg_instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if _statements() != "off" and not asyncpg_instrumentor.is_instrumented_by_opentelemetry:
        asyncpg_instrumentor.instrument()
    if not HTTPXClientInstrumentor().is_instrumented_by_opentelemetry:
        HTTPXClientInstrumentor().instrument()
    return provider


def instrument_app(app: FastAPI) -> None:
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")


# The carrier of the context last asked for (issue 18): a batch publishes several events in
# one BE's trace in a row, so the same context is injected again and again. Contexts are
# immutable; holding the last one makes the identity check exact.
_last_carrier: tuple[otel_context.Context, dict[str, str]] | None = None


def current_carrier() -> dict[str, str]:
    """The active trace context as W3C headers (`traceparent`, `tracestate`)."""
    global _last_carrier
    context = otel_context.get_current()
    last = _last_carrier
    if last is None or last[0] is not context:
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=context)
        last = _last_carrier = (context, carrier)
    return dict(last[1])


def context_from(traceparent: str | None, tracestate: str | None) -> otel_context.Context:
    """The context of a W3C trace context (a fresh one: nothing of the current context
    leaks in), read once per distinct value: a batch reads one BE's context back several
    times, and every span of the relay continues one (issue 18)."""
    return _extracted(traceparent or "", tracestate or "")


@functools.lru_cache(maxsize=4096)
def _extracted(traceparent: str, tracestate: str) -> otel_context.Context:
    carrier = {"traceparent": traceparent, "tracestate": tracestate}
    return propagate.extract(carrier, context=otel_context.Context())


def carrier_of(span: trace.Span, parent: otel_context.Context) -> dict[str, str]:
    """The W3C headers that continue from `span`, started in `parent`, without making it
    current (no attach and detach per span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span, parent))
    return carrier


@contextlib.contextmanager
def continuing(carrier: Mapping[str, str] | None) -> Iterator[None]:
    """Make the trace of `carrier` current: work done once per batch (a decision
    for many BEs) publishes each BE's events in that BE's own trace."""
    if not carrier:
        yield
        return
    token = otel_context.attach(context_from(carrier.get("traceparent"), carrier.get("tracestate")))
    try:
        yield
    finally:
        otel_context.detach(token)
