"""ooc-issuer's handlers with fakes: facts in any order, versions, exactly one OOC."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from clearance_contracts import (
    BIS_VERIFICATION_COMPLETED,
    E_GATEPASS_ISSUED,
    OUT_OF_CHARGE_HELD,
    OUT_OF_CHARGE_ISSUED,
    RMS_DECISION_MADE,
    example,
)
from clearance_runtime.testing import event
from ooc_issuer.service_layer.handlers import HANDLERS

pytestmark = pytest.mark.unit


def _fact(event_type: str, version: int = 1, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(example(event_type))
    data["bill_of_entry_ref"]["version"] = version
    data.update(changes)
    return data


def _bis(version: int = 1, **changes: Any) -> dict[str, Any]:
    data = _fact(BIS_VERIFICATION_COMPLETED, version, **changes)
    data["bill_of_entry"]["aeo_tier"] = "T2"
    return data


def _rms(version: int = 1, outcome: str = "facilitated") -> dict[str, Any]:
    return _fact(RMS_DECISION_MADE, version, outcome=outcome)


async def _deliver(new_uow: Callable[[], Any], *facts: tuple[str, dict[str, Any]]) -> Any:
    """Each fact in its own transaction; return the last unit of work."""
    uow = None
    for event_type, data in facts:
        uow = new_uow()
        await HANDLERS[event_type](event(event_type, data), uow)
        await uow.commit()
    return uow


async def _all_published(
    new_uow: Callable[[], Any], facts: list[tuple[str, dict[str, Any]]]
) -> list[str]:
    published: list[str] = []
    for event_type, data in facts:
        uow = new_uow()
        await HANDLERS[event_type](event(event_type, data), uow)
        await uow.commit()
        published += [e.type for e in uow.published]
    return published


async def test_an_aeo_t2_facilitated_be_gets_one_out_of_charge_and_one_gatepass(
    new_uow: Callable[[], Any],
) -> None:
    """OOC-AUTO-1, OOC-GP-1."""
    published = await _all_published(
        new_uow, [(BIS_VERIFICATION_COMPLETED, _bis()), (RMS_DECISION_MADE, _rms())]
    )
    assert published == [OUT_OF_CHARGE_ISSUED, E_GATEPASS_ISSUED]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
async def test_order_and_redelivery_of_facts_never_change_the_outcome(
    new_uow: Callable[[], Any], order: tuple[int, ...]
) -> None:
    facts = [
        (BIS_VERIFICATION_COMPLETED, _bis()),
        (RMS_DECISION_MADE, _rms()),
        (RMS_DECISION_MADE, _rms()),
    ]
    published = await _all_published(new_uow, [facts[i] for i in order])
    assert published == [OUT_OF_CHARGE_ISSUED, E_GATEPASS_ISSUED]


async def test_a_late_v1_verdict_never_overwrites_the_v2_case(
    new_uow: Callable[[], Any], cases: Any
) -> None:
    """The v2 case is held for examination; a late v1 facilitation changes nothing."""
    published = await _all_published(
        new_uow,
        [
            (BIS_VERIFICATION_COMPLETED, _bis(version=2)),
            (RMS_DECISION_MADE, _rms(version=2, outcome="examination")),
            (BIS_VERIFICATION_COMPLETED, _bis(version=1)),
            (RMS_DECISION_MADE, _rms(version=1)),
        ],
    )
    assert published == [OUT_OF_CHARGE_HELD]
    [case] = cases.rows.values()
    assert (case.version, case.state.value) == (2, "held")


async def test_an_amendment_reopens_a_held_case_and_clears_on_the_new_version(
    new_uow: Callable[[], Any], cases: Any
) -> None:
    """INTAKE-AMEND-1: v1 held (AEO T1), v2 filed as T2 is decided afresh."""
    held = _bis(version=1)
    held["bill_of_entry"]["aeo_tier"] = "T1"
    uow = await _deliver(new_uow, (BIS_VERIFICATION_COMPLETED, held), (RMS_DECISION_MADE, _rms(1)))
    assert [e.type for e in uow.published] == [OUT_OF_CHARGE_HELD]
    uow = await _deliver(new_uow, (BIS_VERIFICATION_COMPLETED, _bis(2)))
    assert uow.published == []  # awaiting the v2 RMS decision: nothing on stale facts
    uow = await _deliver(new_uow, (RMS_DECISION_MADE, _rms(2)))
    assert [e.type for e in uow.published] == [OUT_OF_CHARGE_ISSUED, E_GATEPASS_ISSUED]
    assert uow.published[0].data["bill_of_entry_ref"]["version"] == 2


async def test_a_post_clearance_amendment_never_issues_a_second_out_of_charge(
    new_uow: Callable[[], Any], cases: Any
) -> None:
    """INTAKE-AMEND-2: after OOC, a new version is recorded; the release stands."""
    await _deliver(new_uow, (BIS_VERIFICATION_COMPLETED, _bis()), (RMS_DECISION_MADE, _rms()))
    uow = await _deliver(
        new_uow, (BIS_VERIFICATION_COMPLETED, _bis(2)), (RMS_DECISION_MADE, _rms(2))
    )
    assert uow.published == []
    [case] = cases.rows.values()
    assert (case.state.value, case.issued_version) == ("out_of_charge", 1)


async def test_a_held_be_is_announced_again_only_when_its_reasons_change(
    new_uow: Callable[[], Any],
) -> None:
    published = await _all_published(
        new_uow,
        [
            (BIS_VERIFICATION_COMPLETED, _bis()),
            (RMS_DECISION_MADE, _rms(outcome="examination")),
            (RMS_DECISION_MADE, _rms(outcome="examination")),
            (RMS_DECISION_MADE, _rms(outcome="scanning")),
        ],
    )
    assert published == [OUT_OF_CHARGE_HELD, OUT_OF_CHARGE_HELD]


async def test_facts_of_many_bes_in_one_batch_are_decided_together(
    new_uow: Callable[[], Any],
) -> None:
    uow = new_uow()
    for be_no in ("1000001", "1000002"):
        for event_type, data in ((BIS_VERIFICATION_COMPLETED, _bis()), (RMS_DECISION_MADE, _rms())):
            data["bill_of_entry_ref"]["be_no"] = be_no
            if "bill_of_entry" in data:
                data["bill_of_entry"]["be_no"] = be_no
            await HANDLERS[event_type](event(event_type, data), uow)
    await uow.commit()
    issued = uow.events_of(OUT_OF_CHARGE_ISSUED)
    assert sorted(d["bill_of_entry_ref"]["be_no"] for d in issued) == ["1000001", "1000002"]
    assert len({d["ooc_no"] for d in issued}) == 2
