"""be-intake's handlers with fakes: filings, the status view per version, dead letters."""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from be_intake.service_layer.handlers import HANDLERS, RAW_HANDLERS
from clearance_contracts import (
    BILL_OF_ENTRY_FILED,
    BILL_OF_ENTRY_REGISTERED,
    BILL_OF_ENTRY_REJECTED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RMS_DECISION_MADE,
    example,
)
from clearance_runtime.testing import event

pytestmark = pytest.mark.unit
KEY = ("INNSA1", "2345678")


async def _handle(new_uow: Callable[[], Any], event_type: str, data: dict[str, Any]) -> Any:
    uow = new_uow()
    await HANDLERS[event_type](event(event_type, data), uow)
    await uow.commit()
    return uow


async def test_a_valid_filing_is_registered_as_version_1_once(new_uow: Callable[[], Any]) -> None:
    filing = example(BILL_OF_ENTRY_FILED)
    uow = await _handle(new_uow, BILL_OF_ENTRY_FILED, filing)
    [registered] = uow.events_of(BILL_OF_ENTRY_REGISTERED)
    assert registered["bill_of_entry_ref"]["version"] == 1
    assert registered["bill_of_entry"] == filing
    again = await _handle(new_uow, BILL_OF_ENTRY_FILED, filing)
    assert again.published == []  # a duplicate changes nothing


async def test_an_invalid_filing_is_rejected_with_every_rule_it_breaks(
    new_uow: Callable[[], Any],
) -> None:
    filing = {**example(BILL_OF_ENTRY_FILED), "iec": "bad", "be_type": "W", "warehouse_code": None}
    uow = await _handle(new_uow, BILL_OF_ENTRY_FILED, filing)
    [rejected] = uow.events_of(BILL_OF_ENTRY_REJECTED)
    assert [r["rule_id"] for r in rejected["reasons"]] == ["INTAKE-IEC-1", "INTAKE-BE-2"]
    assert uow.events_of(BILL_OF_ENTRY_REGISTERED) == []


def _verdict(event_type: str, version: int) -> dict[str, Any]:
    data = copy.deepcopy(example(event_type))
    data["bill_of_entry_ref"].update(be_no="2345678", be_date="2025-03-20", version=version)
    return data


async def test_a_late_v1_verdict_never_overwrites_the_v2_status(
    new_uow: Callable[[], Any], intake: Any
) -> None:
    await _handle(new_uow, OUT_OF_CHARGE_HELD, _verdict(OUT_OF_CHARGE_HELD, 2))
    await _handle(new_uow, RMS_DECISION_MADE, _verdict(RMS_DECISION_MADE, 1))
    [status] = intake.status.values()
    assert (status.stage, status.version) == ("held", 2)
    assert len(intake.history) == 2  # the late one is in the timeline all the same


async def test_out_of_charge_stands_when_a_later_version_arrives(
    new_uow: Callable[[], Any], intake: Any
) -> None:
    """INTAKE-AMEND-2: a post-clearance amendment never re-opens the release."""
    await _handle(new_uow, OUT_OF_CHARGE_ISSUED, _verdict(OUT_OF_CHARGE_ISSUED, 1))
    await _handle(new_uow, RMS_DECISION_MADE, _verdict(RMS_DECISION_MADE, 2))
    [status] = intake.status.values()
    assert (status.stage, status.version) == ("out_of_charge", 2)


async def test_a_dead_letter_marks_its_be_stuck_and_the_producers_event_resolves_it(
    new_uow: Callable[[], Any], intake: Any
) -> None:
    record = SimpleNamespace(
        topic="clearance.rms-decision.made.v1.dlq",
        partition=0,
        offset=7,
        timestamp=1_700_000_000_000,
        key=b"INNSA1/2345678/2025-03-20",
        headers=[("dlq_consumer", b"ooc-issuer"), ("dlq_reason", b"handler failed")],
    )
    uow = new_uow()
    await RAW_HANDLERS["clearance.rms-decision.made.v1.dlq"](record, uow)
    assert [(c, r) for _, c, r in intake.dead_letters] == [("ooc-issuer", "handler failed")]
    await _handle(new_uow, OUT_OF_CHARGE_HELD, _verdict(OUT_OF_CHARGE_HELD, 1))
    assert intake.resolved[-1][1] == "ooc-issuer"  # ooc-issuer moved the BE on


async def test_a_dead_letter_without_a_be_key_is_not_attributed(
    new_uow: Callable[[], Any], intake: Any
) -> None:
    record = SimpleNamespace(
        topic="x.dlq", partition=0, offset=1, timestamp=0, key=b"k", headers=[]
    )
    await RAW_HANDLERS["icegate.bill-of-entry.filed.v1.dlq"](record, new_uow())
    assert intake.dead_letters == []
