"""The code and the AsyncAPI document agree on who consumes what.

Each service's handler table must consume exactly the topics the document
says it receives; a topic added on one side only fails here.
"""

from __future__ import annotations

import pytest
from be_intake.service_layer.handlers import handlers as be_intake_handlers
from bis_verifier.service_layer.handlers import handler_table as bis_verifier_handlers
from clearance_contracts import topics
from clearance_local.services import SERVICES
from clearance_runtime.policies import Policies
from ooc_issuer.service_layer.handlers import handlers as ooc_issuer_handlers
from rms_router.service_layer.handlers import handlers as rms_router_handlers
from warehouse_seal.service_layer.handlers import handlers as warehouse_seal_handlers

pytestmark = pytest.mark.unit

CONSUMED_IN_CODE = {
    "be-intake": set(be_intake_handlers(Policies([]))),
    "bis-verifier": set(bis_verifier_handlers()),
    "rms-router": set(rms_router_handlers(Policies([]))),
    "warehouse-seal": set(warehouse_seal_handlers(Policies([]))),
    "ooc-issuer": set(ooc_issuer_handlers(None)),  # type: ignore[arg-type]
}


# Consumers the catalogue already names (CONTRACTS.md) whose handlers are built on other
# branches: remove each line as its handler lands (none is awaited now).
AWAITING_CONSUMER: set[tuple[str, str]] = set()


@pytest.mark.parametrize("service", sorted(CONSUMED_IN_CODE))
def test_handler_table_consumes_what_the_document_says(service: str) -> None:
    documented = {
        spec.name for spec in topics() if not spec.dead_letter and service in spec.consumers
    }
    awaited = {name for who, name in AWAITING_CONSUMER if who == service}
    assert CONSUMED_IN_CODE[service] | (awaited & documented) == documented
    assert not awaited & CONSUMED_IN_CODE[service], "it consumes it now: drop it from the list"


@pytest.mark.parametrize("service", sorted(CONSUMED_IN_CODE))
def test_each_consumed_topic_has_the_dead_letter_topic_the_service_writes(service: str) -> None:
    dead_letters = {spec.dead_letter_of for spec in topics() if service in spec.producers}
    assert CONSUMED_IN_CODE[service] <= dead_letters


def test_the_local_stack_runs_every_service_of_the_document() -> None:
    specs = [spec for spec in topics() if not spec.dead_letter]
    owners = {spec.owner for spec in specs}
    external = {party for spec in specs for party in spec.external_parties}
    assert owners - external == {name for name, _ in SERVICES}
