"""warehouse-seal's handler with fakes: warehousing BEs only, one verdict per version."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from clearance_contracts import BILL_OF_ENTRY_REGISTERED, SEAL_TRIP_RECONCILED, example
from clearance_runtime.testing import event
from warehouse_seal.service_layer.handlers import HANDLERS

pytestmark = pytest.mark.unit


def _registered(version: int, variant: str = "warehousing") -> dict[str, Any]:
    data = copy.deepcopy(example(BILL_OF_ENTRY_REGISTERED, variant))
    data["bill_of_entry_ref"]["version"] = version
    return data


async def _handle(new_uow: Callable[[], Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    uow = new_uow()
    await HANDLERS[BILL_OF_ENTRY_REGISTERED](event(BILL_OF_ENTRY_REGISTERED, data), uow)
    await uow.commit()
    published: list[dict[str, Any]] = uow.events_of(SEAL_TRIP_RECONCILED)
    return published


async def test_a_home_consumption_be_has_no_seal_trip(new_uow: Callable[[], Any]) -> None:
    assert await _handle(new_uow, _registered(1, "default")) == []


async def test_a_late_v1_registration_never_overwrites_the_v2_reconciliation(
    new_uow: Callable[[], Any], reconciliations: Any
) -> None:
    [v2] = await _handle(new_uow, _registered(2))
    assert (v2["outcome"], v2["bill_of_entry_ref"]["version"]) == ("matched", 2)
    assert await _handle(new_uow, _registered(1)) == []
    assert [ref.version for ref in reconciliations.rows] == [2]
