"""rms-router's handler with fakes: one decision per BE version, never a stale one."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from clearance_contracts import BIS_VERIFICATION_COMPLETED, RMS_DECISION_MADE, example
from clearance_runtime.testing import event
from rms_router.service_layer.handlers import HANDLERS

pytestmark = pytest.mark.unit


def _verified(version: int, first_check: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(example(BIS_VERIFICATION_COMPLETED))
    data["bill_of_entry_ref"]["version"] = version
    data["bill_of_entry"]["first_check"] = first_check
    return data


async def _handle(new_uow: Callable[[], Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    uow = new_uow()
    await HANDLERS[BIS_VERIFICATION_COMPLETED](event(BIS_VERIFICATION_COMPLETED, data), uow)
    await uow.commit()
    decisions: list[dict[str, Any]] = uow.events_of(RMS_DECISION_MADE)
    return decisions


async def test_a_first_check_be_is_queued_for_examination(
    new_uow: Callable[[], Any], decisions: Any
) -> None:
    """RMS-2, RMS-QUEUE-1."""
    [decision] = await _handle(new_uow, _verified(1, first_check=True))
    assert decision["outcome"] == "examination"
    assert [ref.version for ref in decisions.queue] == [1]


async def test_a_late_v1_verdict_never_overwrites_the_v2_decision(
    new_uow: Callable[[], Any], decisions: Any
) -> None:
    [v2] = await _handle(new_uow, _verified(2, first_check=True))
    assert v2["bill_of_entry_ref"]["version"] == 2
    assert await _handle(new_uow, _verified(1)) == []
    assert [ref.version for ref in decisions.rows] == [2]
    assert [ref.version for ref in decisions.queue] == [2]
