"""bis-verifier's handler with fakes: one verdict per BE version, never a stale one."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from bis_verifier.domain.register import Registration, RegistrationStatus
from bis_verifier.service_layer.handlers import handlers
from clearance_contracts import BILL_OF_ENTRY_REGISTERED, BIS_VERIFICATION_COMPLETED, example
from clearance_runtime.testing import event

pytestmark = pytest.mark.unit

# The example BE's real registration: R-41087785, Operative, valid up to 30-Apr-2025.
DAHUA = Registration(
    "R-41087785",
    RegistrationStatus.OPERATIVE,
    "Operative",
    None,
    "CCTV",
    "DAHUATECHNOLOGY",
    "ZHEJIANG DAHUA ZHILIAN CO., LTD.",
)
HANDLERS = handlers(lambda number: DAHUA if number == DAHUA.number else None)


def _registered(version: int, be_date: str = "2025-03-20") -> dict[str, Any]:
    data = copy.deepcopy(example(BILL_OF_ENTRY_REGISTERED))
    data["bill_of_entry_ref"]["version"] = version
    return data


async def test_each_version_gets_its_verdict(new_uow: Callable[[], Any]) -> None:
    uow = new_uow()
    for version in (1, 2):
        await HANDLERS[BILL_OF_ENTRY_REGISTERED](
            event(BILL_OF_ENTRY_REGISTERED, _registered(version)), uow
        )
    await uow.commit()
    verdicts = uow.events_of(BIS_VERIFICATION_COMPLETED)
    assert [v["bill_of_entry_ref"]["version"] for v in verdicts] == [1, 2]
    # BIS-CRS-1: the registration has no validity date in this stand-in: not valid at clearance
    assert verdicts[0]["findings"][0]["rule_id"] == "BIS-CRS-1"
    assert verdicts[0]["findings"][0]["source_document"].startswith("CBIC Instruction 07/2025")


async def test_a_late_v1_registration_is_neither_recorded_nor_published(
    new_uow: Callable[[], Any], verifications: Any
) -> None:
    for version in (2, 1):
        uow = new_uow()
        await HANDLERS[BILL_OF_ENTRY_REGISTERED](
            event(BILL_OF_ENTRY_REGISTERED, _registered(version)), uow
        )
        await uow.commit()
        published = [
            v["bill_of_entry_ref"]["version"] for v in uow.events_of(BIS_VERIFICATION_COMPLETED)
        ]
        assert published == ([2] if version == 2 else [])
    assert [ref.version for ref in verifications.rows] == [2]
