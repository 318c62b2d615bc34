"""A case reads back from its row exactly as it was (every fact, the OOC, officers)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from clearance_domain.reasons import reasons_data
from ooc_builders import assessed, bis, examined, noc, paid, registered, rms, sample
from ooc_issuer.adapters.repository import case_document, case_of
from ooc_issuer.domain.case import ClearanceCase

pytestmark = pytest.mark.unit


def _row(case: ClearanceCase) -> SimpleNamespace:
    issued = case.issued
    return SimpleNamespace(
        port_code=case.port_code,
        be_no=case.be_no,
        be_date=case.be_date,
        version=case.version,
        state=case.state.value,
        facts=orjson.loads(orjson.dumps(case_document(case))),
        held_reasons=reasons_data(list(case.held_reasons)),
        grantable=case.grantable,
        queued_at=case.queued_at,
        out_of_charge_no=issued.out_of_charge_no if issued else None,
        gatepass_no=issued.gatepass_no if issued else None,
    )


async def test_a_released_case_with_every_kind_of_fact_reads_back_the_same(
    new_uow: Callable[[], Any], cases: Any, signer: Any
) -> None:
    from ooc_issuer.service_layer.handlers import handlers

    table = handlers(signer)
    facts = [
        registered(), registered(2, invalidates_assessment=True), bis(2, "conditional", (1,)),
        rms(2, "assessment"), assessed(1), assessed(2), examined("samples_drawn", (1,)),
        noc(), paid(1000.0, "C-1"), paid(), sample(True),
    ]  # fmt: skip
    from clearance_runtime.testing import event

    for event_type, data in facts:
        uow = new_uow()
        await table[event_type](event(event_type, data), uow)
        await uow.commit()
    [case] = cases.rows.values()
    assert case.issued is not None  # examined (samples drawn): OOC-EXAM-1, sale restricted
    assert case.sample is not None
    assert case.state.value == "out_of_charge"
    again = case_of(_row(case))
    assert dataclasses.replace(again, events=[]) == dataclasses.replace(case, events=[])


def test_a_held_case_reads_back_the_same() -> None:
    from ooc_issuer.service_layer.messages import fact_of

    case = ClearanceCase.open(fact_of(*registered()).ref)
    for event_type, data in (registered(tier=None), bis(), rms()):
        case.apply(fact_of(event_type, data))
    assert case.settle(_now()) is None  # held: not an AEO
    case.events.clear()
    assert case_of(_row(case)) == case


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime(2025, 3, 20, 12, tzinfo=UTC)
