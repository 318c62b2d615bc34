"""The CPU split of a py-spy profile by kind of work (issue 18), on made-up stacks."""

from __future__ import annotations

import pytest
from clearance_bench.cpu_split import LOOP, TRACING, split

pytestmark = pytest.mark.unit
ROOT = 'process 1:"python -m be_intake serve";Runner.run (asyncio/runners.py:118)'


def test_each_sample_goes_to_the_first_kind_of_work_that_claims_it() -> None:
    lines = [
        f"{ROOT};EventConsumer._parse (clearance_runtime/consumer.py:265);"
        "validate_event (clearance_contracts/validation.py:93) 3",
        f"{ROOT};OutboxRelay._send (clearance_runtime/outbox.py:147);"
        "Tracer.start_span (trace/__init__.py:1200) 2",
        f"{ROOT};process (be_intake/service_layer/handlers.py:244);"
        "identity_of (be_intake/service_layer/messages.py:16) 4",
        f"{ROOT};SqlIntake.cases (be_intake/adapters/repository.py:175);"
        "Connection._do_execute (asyncpg/connection.py:2066) 5",
        f"{ROOT} 1",
        'process 1:"x";Thread._bootstrap (threading.py:1002);'
        "BatchProcessor.worker (_shared_internal/__init__.py:162);"
        "JSONEncoder.iterencode (json/encoder.py:258) 6",
        'process 1:"x";Thread._bootstrap (threading.py:1002);Condition.wait (threading.py:331) 9',
    ]
    kinds, waiting = split(lines)
    assert waiting == 9
    assert kinds == {
        "contract validation (jsonschema-rs)": 3,
        TRACING: 8,
        "the service's rules and batch": 4,
        "SQL client: SQLAlchemy + asyncpg": 5,
        LOOP: 1,
    }
