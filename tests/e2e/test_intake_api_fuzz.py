"""A property-based fuzzer (schemathesis, every check it has) against be-intake's HTTP API
as it runs: no request, valid or not, gets an answer its OpenAPI does not document (no 5xx,
no undocumented status, no body off its schema, invalid data refused, valid data taken).
Every operation of be-intake's own routes is fuzzed with valid and with invalid data; the
runtime's administration routes (clock, policies) are left out: moving the clock at random
would upset the other tests."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pipeline_harness import Pipeline, headers
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
EVERY_ROLE = "filer,officer,upstream,custodian,administrator"
EXAMPLES_PER_OPERATION = 25


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_every_answer_of_the_api_is_one_its_openapi_documents(pipeline: Pipeline) -> None:
    loaded = schemathesis.openapi.from_url(f"{pipeline.intake_url}/openapi.json")
    schema = loaded.include(tag_regex="^(bills of entry|reference data)$")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8  # file, search, status, amend, decide, waive, directory, arrival
    identity = headers(EVERY_ROLE)

    for operation in operations:
        for mode in GenerationMode:
            strategy = operation.as_strategy(generation_mode=mode)

            @given(strategy)
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def fuzz(case: Any) -> None:
                case.call_and_validate(headers=identity, checks=ALL_CHECKS)

            fuzz()
