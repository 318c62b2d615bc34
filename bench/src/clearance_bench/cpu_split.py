"""Where a service's CPU goes, by kind of work, from py-spy's raw (collapsed) profiles
(issue 18). Record one during a burst, then split it:

    py-spy record --pid $(cat .data/bench/run/be-intake.pid) --rate 50 --nonblocking \\
        --duration 240 --format raw --output be-intake.raw
    python -m clearance_bench.cpu_split be-intake.raw [more.raw ...]

A sample goes to the first kind of work that claims it: the tracing of the export thread
and the event loop by the whole stack; then, leaf first, the libraries (tracing, contract
validation, SQL client, Kafka client, JSON); then the service's rules or the runtime's glue.
Threads waiting (the span exporter between exports) are left out.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

TRACING = "tracing: spans, context propagation, Zipkin export"
LOOP = "event loop and the rest (uvloop, asyncio)"
LIBRARIES = [
    (
        TRACING,
        r"opentelemetry|\((trace|context|attributes|util|sdk|propagators|baggage)/|zipkin|"
        r"BatchSpanProcessor|BatchProcessor|propagat|current_carrier|context_from|continuing|"
        r"carrier_of|_extracted|requests/|urllib3|http/client",
    ),
    ("contract validation (jsonschema-rs)", r"validate_event|clearance_contracts/validation"),
    ("SQL client: SQLAlchemy + asyncpg", r"sqlalchemy|asyncpg"),
    ("Kafka client: aiokafka fetch + produce", r"aiokafka"),
    (
        "JSON, digests, envelopes",
        r"orjson|json/|digest|_json \(|kafka_value|encode_headers|decode_headers|_outbox_row|"
        r"from_kafka|columns \(",
    ),
    ("metrics, HTTP endpoints", r"prometheus_client|uvicorn/protocols|starlette|fastapi"),
]
GLUE = [
    ("the service's rules and batch", r"be_intake/|bis_verifier/|rms_router/|warehouse_seal/"),
    ("the service's rules and batch", r"ooc_issuer/|clearance_domain/|policies\.py"),
    ("runtime glue: consumer, inbox, unit of work, relay, timers", r"clearance_runtime/"),
]
_EXPORT_THREAD = re.compile(r"BatchProcessor|BatchSpanProcessor|Thread\._bootstrap")
_WAITING = re.compile(r"^(Condition\.wait|Event\.wait|_worker \(concurrent)")


def kind_of(frames: list[str]) -> str:
    """The kind of work of one sampled stack (root first)."""
    if _EXPORT_THREAD.search(";".join(frames)):
        return TRACING
    if not frames or frames[-1].startswith("Runner.run"):
        return LOOP
    for table in (LIBRARIES, GLUE):
        for frame in reversed(frames):
            for name, pattern in table:
                if re.search(pattern, frame):
                    return name
    return LOOP


def split(lines: list[str]) -> tuple[Counter[str], int]:
    """Samples per kind of work, and the samples of threads waiting (left out)."""
    kinds: Counter[str] = Counter()
    waiting = 0
    for line in lines:
        if not line.strip():
            continue
        stack, count = line.rstrip("\n").rsplit(" ", 1)
        frames = stack.split(";")[1:]  # the first is the process
        if frames and _WAITING.match(frames[-1]):
            waiting += int(count)
        else:
            kinds[kind_of(frames)] += int(count)
    return kinds, waiting


def main(argv: list[str] | None = None) -> int:
    for path in argv if argv is not None else sys.argv[1:]:
        kinds, waiting = split(Path(path).read_text().splitlines())
        total = sum(kinds.values())
        print(f"{path}: {total} samples ({waiting} of waiting threads left out)")
        for name, count in kinds.most_common():
            print(f"  {100 * count / total:5.1f} %  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
