"""A property-based fuzzer (schemathesis, every check it has) against be-intake's HTTP API
as it runs: no request, valid or not, gets an answer its OpenAPI does not document (no 5xx,
no undocumented status, no body off its schema, invalid data refused, valid data taken).
Every operation of be-intake's own routes is fuzzed with valid and with invalid data; the
runtime's administration routes (clock, policies) are left out: moving the clock at random
would upset the other tests.

One check is narrowed, and only as far as a plain JSON Schema cannot go: any body valid to
its published schema may still be refused (400) for a NUL character in its text, which no
declaration carries and PostgreSQL cannot keep; and a filing or an amendment may still be
rejected (422) for the rules that hang on other fields (INTAKE-BE-2 on the BE type;
INTAKE-IEC-2, -3, -4 on which permanent IEC it is) or, for an amendment, on the BE's state
(INTAKE-AMEND-1, -2). For valid data `positive_data_acceptance` is replaced by a check that
it was taken or one of those, and nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pipeline_harness import Pipeline, headers
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

load_all_checks()
ALL_CHECKS = CHECKS.get_all()
POSITIVE_ACCEPTANCE = CHECKS.get_by_names(["positive_data_acceptance"])
CONDITIONAL_RULES = {"INTAKE-BE-2", "INTAKE-IEC-2", "INTAKE-IEC-3", "INTAKE-IEC-4"}
# An amendment is also judged against the BE as it stands (INTAKE-AMEND-1, -2): its state.
AMENDMENT_RULES = CONDITIONAL_RULES | {"INTAKE-AMEND-1", "INTAKE-AMEND-2"}


def _only_what_a_schema_cannot_say(response: Any, allowed: set[str]) -> None:
    """Valid data is taken (or is a duplicate, names an unknown BE, or is not this caller's
    to send), else rejected only for the rules `allowed` (those a schema cannot hold: none
    but for a filing or an amendment), or refused only for a NUL, which any free text may
    carry by its schema and no declaration does."""
    if response.status_code < 400 or response.status_code in (401, 403, 404, 409, 429):
        return
    body = response.json()
    if response.status_code == 422:
        rules = {r["rule_id"] for r in body.get("reasons", [])}
        assert rules, body
        assert rules <= allowed, body
    else:
        assert response.status_code == 400, body
        assert "NUL" in body["detail"], body


EVERY_ROLE = "filer,officer,upstream,custodian,administrator"
EXAMPLES_PER_OPERATION = 25


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_every_answer_of_the_api_is_one_its_openapi_documents(pipeline: Pipeline) -> None:
    loaded = schemathesis.openapi.from_url(f"{pipeline.intake_url}/openapi.json")
    schema = loaded.include(tag_regex="^(bills of entry|reference data)$")
    operations = [result.ok() for result in schema.get_all_operations()]
    # file, status, amend, decide, waive, directory, arrival, assessment routing
    assert len(operations) == 8
    identity = headers(EVERY_ROLE)

    for operation in operations:
        # GET /assessment-routing takes nothing but the identity: no invalid input to make.
        takes_nothing = operation.label == "GET /assessment-routing"
        modes = [GenerationMode.POSITIVE] if takes_nothing else list(GenerationMode)
        for mode in modes:
            _fuzzer(operation.as_strategy(generation_mode=mode), identity, mode)()


def _identity_for(case: Any, identity: Mapping[str, str]) -> Mapping[str, str]:
    """Our token replaces the one schemathesis makes up, except where a negative case is
    invalid for leaving the Authorization header out (the bearer scheme is required):
    adding ours would make that case valid, so it goes without and must get a 401."""
    if any(name.lower() == "authorization" for name in case.headers or {}):
        return identity
    return {k: v for k, v in identity.items() if k.lower() != "authorization"}


def _fuzzer(strategy: Any, identity: Mapping[str, str], mode: GenerationMode) -> Any:
    positive = mode is GenerationMode.POSITIVE

    @given(strategy)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case: Any) -> None:
        filing = case.method == "POST" and case.path == "/bills-of-entry"
        amending = case.method == "POST" and case.path.endswith("/amendments")
        caller = _identity_for(case, identity)
        if positive:
            checks = [c for c in ALL_CHECKS if c not in POSITIVE_ACCEPTANCE]
            response = case.call_and_validate(headers=caller, checks=checks)
            rules = AMENDMENT_RULES if amending else CONDITIONAL_RULES if filing else set()
            _only_what_a_schema_cannot_say(response, rules)
        else:
            case.call_and_validate(headers=caller, checks=ALL_CHECKS)

    return fuzz
