"""A property-based fuzzer (schemathesis, every check it has) against be-intake's HTTP API
as it runs: no request, valid or not, gets an answer its OpenAPI does not document (no 5xx,
no undocumented status, no body off its schema). The administration routes of the runtime
(clock, policies) are left out: moving the clock at random would upset the other tests."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pipeline_harness import Pipeline, headers
from schemathesis.checks import CHECKS, load_all_checks

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
EVERY_ROLE = "filer,officer,upstream,custodian,administrator"


@pytest.fixture(scope="session")
def intake_api(pipeline: Pipeline) -> Any:
    loaded = schemathesis.openapi.from_url(f"{pipeline.intake_url}/openapi.json")
    return loaded.include(tag_regex="^(bills of entry|reference data)$")


api = schemathesis.pytest.from_fixture("intake_api")


@pytest.mark.e2e
@pytest.mark.timeout(600)
@api.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_of_the_api_is_one_its_openapi_documents(case: Any) -> None:
    case.call_and_validate(headers=headers(EVERY_ROLE), checks=ALL_CHECKS)
