"""warehouse-seal's handlers and timers with fakes: the verdict per BE version whatever
the order of BE and seal facts, trips, alerts and duty demands, once each."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from clearance_contracts import (
    BILL_OF_ENTRY_REGISTERED,
    DUTY_DEMAND_RAISED,
    RFID_SEAL_AFFIXED,
    RFID_SEAL_SCANNED,
    RFID_SEAL_SOLD,
    SEAL_TRIP_ALERT_RAISED,
    SEAL_TRIP_RECONCILED,
    example,
)
from clearance_runtime.policies import Policies
from clearance_runtime.testing import event
from clearance_runtime.timers import Timer
from warehouse_seal.domain.movements import Exemption
from warehouse_seal.service_layer.handlers import handlers, submit, timer_handlers
from warehouse_seal.service_layer.settlement import (
    ACKNOWLEDGEMENT_TIMER,
    DELAY_TIMER,
    SALE_WAIT_TIMER,
    Fact,
)

pytestmark = pytest.mark.unit

KEY = "INNSA1/2345702/2025-03-21"
SEALS = ("ZSEL 4417 0932", "ZSEL 4417 0933")


def _registered(version: int = 1, variant: str = "warehousing", **be: Any) -> dict[str, Any]:
    data = copy.deepcopy(example(BILL_OF_ENTRY_REGISTERED, variant))
    data["bill_of_entry_ref"]["version"] = version
    data["bill_of_entry"].update(be)
    return data


def _sold(seal_no: str, **changes: Any) -> dict[str, Any]:
    tid = "E28011702000121A4C3F" + seal_no[-4:]
    return {**example(RFID_SEAL_SOLD), "seal_no": seal_no, "tid": tid, **changes}


def _affixed(seal_no: str = SEALS[0], **changes: Any) -> dict[str, Any]:
    return {**example(RFID_SEAL_AFFIXED), "seal_no": seal_no, **changes}


def _scanned(seal_no: str = SEALS[0], **changes: Any) -> dict[str, Any]:
    tid = "E28011702000121A4C3F" + seal_no[-4:]
    return {**example(RFID_SEAL_SCANNED), "seal_no": seal_no, "tid": tid, **changes}


class Run:
    def __init__(self, new_uow: Callable[..., Any], policies: Policies, records: Any) -> None:
        self.new_uow, self.records, self.policies = new_uow, records, policies
        self.clock = new_uow.clock  # type: ignore[attr-defined]
        self.handlers = handlers(policies)
        self.timers = timer_handlers(policies)

    async def handle(self, *events: tuple[str, dict[str, Any]]) -> Any:
        """The events in one transaction (as one consumer batch)."""
        uow = self.new_uow()
        for event_type, data in events:
            await self.handlers[event_type](event(event_type, data), uow)
        await uow.commit()
        return uow

    async def fire(self, kind: str, key: str, payload: dict[str, Any] | None = None) -> Any:
        uow = self.new_uow()
        timer = Timer(1, kind, key, self.clock.now(), payload or {})
        await self.timers[kind](timer, uow)
        await uow.commit()
        return uow


@pytest.fixture
def run(new_uow: Callable[..., Any], policies: Policies, records: Any) -> Run:
    return Run(new_uow, policies, records)


def _verdicts(uow: Any) -> list[str]:
    return [data["outcome"] for data in uow.events_of(SEAL_TRIP_RECONCILED)]


async def test_a_home_consumption_be_has_no_seal_trip(run: Run) -> None:
    uow = await run.handle((BILL_OF_ENTRY_REGISTERED, _registered(variant="default")))
    assert uow.published == []


async def test_ooc_wh_1_the_be_waits_for_the_sales_then_matches(run: Run) -> None:
    """SEAL-LINK-1, OOC-WH-1: BE first; no verdict until both sales are known."""
    uow = await run.handle((BILL_OF_ENTRY_REGISTERED, _registered()))
    assert _verdicts(uow) == []
    [timer] = uow.pending_timers()
    assert (timer.kind, timer.key, timer.payload) == (SALE_WAIT_TIMER, KEY, {"version": 1})
    assert timer.due_at == run.clock.now() + timedelta(hours=24)
    uow = await run.handle((RFID_SEAL_SOLD, _sold(SEALS[0])))
    assert _verdicts(uow) == []  # one seal still awaited
    uow = await run.handle((RFID_SEAL_SOLD, _sold(SEALS[1])))
    [verdict] = uow.events_of(SEAL_TRIP_RECONCILED)
    assert verdict["outcome"] == "matched"
    assert [f["rule_id"] for f in verdict["findings"]] == ["SEAL-LINK-1", "SEAL-LINK-1"]
    assert run.records.bill(KEY).awaiting_since is None  # and its timer is called off


async def test_ooc_wh_1_a_be_registered_while_a_sale_waits_for_its_lock_still_matches(
    run: Run,
) -> None:
    """OOC-WH-1: the sale's transaction reads the seal's claims before it takes the lock; a
    BE that claims the seal and commits meanwhile must still be reconciled by the sale."""
    await run.handle((RFID_SEAL_SOLD, _sold(SEALS[0])))
    run.records.meanwhile = lambda: run.handle((BILL_OF_ENTRY_REGISTERED, _registered()))
    uow = await run.handle((RFID_SEAL_SOLD, _sold(SEALS[1])))
    assert _verdicts(uow) == ["matched"]
    assert run.records.locked[-1] == [f"be:{KEY}"]


async def test_ooc_wh_1_sales_first_then_the_be_matches_at_once(run: Run) -> None:
    await run.handle((RFID_SEAL_SOLD, _sold(SEALS[0])), (RFID_SEAL_SOLD, _sold(SEALS[1])))
    uow = await run.handle((BILL_OF_ENTRY_REGISTERED, _registered()))
    assert _verdicts(uow) == ["matched"]


async def test_seal_link_1_a_seal_linked_to_another_warehouse_is_a_mismatch(run: Run) -> None:
    await run.handle(
        (RFID_SEAL_SOLD, _sold(SEALS[0])),
        (RFID_SEAL_SOLD, _sold(SEALS[1], warehouse_code="PNQ4W002")),
    )
    uow = await run.handle((BILL_OF_ENTRY_REGISTERED, _registered()))
    [verdict] = uow.events_of(SEAL_TRIP_RECONCILED)
    assert verdict["outcome"] == "mismatched"
    assert "linked to warehouse PNQ4W002, not to MUM4W017" in verdict["findings"][0]["message"]


async def test_seal_link_1_no_sale_after_the_wait_is_a_mismatch(run: Run) -> None:
    await run.handle((BILL_OF_ENTRY_REGISTERED, _registered()))
    uow = await run.fire(SALE_WAIT_TIMER, KEY, {"version": 1})
    assert _verdicts(uow) == ["mismatched"]
    uow = await run.handle((RFID_SEAL_SOLD, _sold(SEALS[0])), (RFID_SEAL_SOLD, _sold(SEALS[1])))
    assert _verdicts(uow) == ["matched"]  # the sales came late: the verdict follows them


async def test_an_amended_be_is_reconciled_again_and_a_late_version_changes_nothing(
    run: Run,
) -> None:
    await run.handle((RFID_SEAL_SOLD, _sold(SEALS[0])), (RFID_SEAL_SOLD, _sold(SEALS[1])))
    assert _verdicts(await run.handle((BILL_OF_ENTRY_REGISTERED, _registered(2)))) == ["matched"]
    uow = await run.handle((BILL_OF_ENTRY_REGISTERED, _registered(3, warehouse_code="PNQ4W002")))
    [v3] = uow.events_of(SEAL_TRIP_RECONCILED)
    assert (v3["bill_of_entry_ref"]["version"], v3["outcome"]) == (3, "mismatched")
    assert await run.handle((BILL_OF_ENTRY_REGISTERED, _registered(1))) is not None
    assert run.records.bill(KEY).ref.version == 3


async def test_seal_fmt_1_a_vendor_not_listed_is_refused_and_kept(run: Run) -> None:
    await run.handle((RFID_SEAL_SOLD, _sold("QQQQ 1234 5678", vendor_brand="QQQQ")))
    [(seal_no, what, reasons)] = run.records.refusals
    assert (seal_no, what, reasons[0].rule_id) == ("QQQQ 1234 5678", "sale", "SEAL-FMT-1")
    assert run.records.sale_rows == {}


async def test_seal_fmt_1_a_seal_is_sealed_once(run: Run) -> None:
    await run.handle((RFID_SEAL_SOLD, _sold(SEALS[0])), (RFID_SEAL_AFFIXED, _affixed()))
    again = _affixed(
        bill_of_entry={"port_code": "INNSA1", "be_no": "2345999", "be_date": "2025-03-21"}
    )
    await run.handle((RFID_SEAL_AFFIXED, again))
    [(_, what, reasons)] = run.records.refusals
    assert what == "sealing"
    assert "used once" in reasons[0].message
    assert run.records.trip(SEALS[0]).sealing.document.number == "2345702"


async def test_seal_data_1_a_sealing_sets_the_delay_and_acknowledgement_timers(run: Run) -> None:
    uow = await run.handle((RFID_SEAL_SOLD, _sold(SEALS[0])), (RFID_SEAL_AFFIXED, _affixed()))
    due = {t.kind: t.due_at for t in uow.pending_timers()}
    sealed = datetime.fromisoformat(_affixed()["sealed_at"])
    assert due == {
        DELAY_TIMER: sealed + timedelta(hours=72),
        ACKNOWLEDGEMENT_TIMER: datetime.fromisoformat("2025-04-22T09:40:00+05:30"),
    }


async def _sealed_be(run: Run) -> None:
    await run.handle((RFID_SEAL_SOLD, _sold(SEALS[0])), (RFID_SEAL_SOLD, _sold(SEALS[1])))
    await run.handle((BILL_OF_ENTRY_REGISTERED, _registered()))
    await run.handle((RFID_SEAL_AFFIXED, _affixed()))


async def test_seal_trip_1_a_clean_arrival_cancels_the_timers_and_reports(run: Run) -> None:
    await _sealed_be(run)
    uow = await run.handle((RFID_SEAL_SCANNED, _scanned()))
    [verdict] = uow.events_of(SEAL_TRIP_RECONCILED)  # the trip report joins the findings
    assert verdict["outcome"] == "matched"
    assert [f["rule_id"] for f in verdict["findings"]] == [
        "SEAL-LINK-1",
        "SEAL-TRIP-1",
        "SEAL-LINK-1",
    ]
    assert run.records.trip(SEALS[0]).report is not None
    # the timers are called off; one that fires all the same finds the trip arrived
    assert (await run.fire(DELAY_TIMER, SEALS[0])).published == []
    assert (await run.fire(ACKNOWLEDGEMENT_TIMER, SEALS[0])).published == []


async def test_seal_tamper_2_a_tampered_arrival_alerts_by_the_be_and_holds_it(run: Run) -> None:
    await _sealed_be(run)
    uow = await run.handle((RFID_SEAL_SCANNED, _scanned(tamper_status="tampered")))
    [alert] = uow.events_of(SEAL_TRIP_ALERT_RAISED)
    assert (alert["alert"], alert["document_key"]) == ("tamper_at_warehouse", KEY)
    assert alert["bill_of_entry_ref"]["version"] == 1
    assert alert["shipping_bill_ref"] is None
    assert _verdicts(uow) == ["tampered"]
    assert uow.topics == [SEAL_TRIP_RECONCILED, SEAL_TRIP_ALERT_RAISED]


async def test_seal_tamper_1_a_tampered_export_alerts_by_the_shipping_bill(run: Run) -> None:
    export = _affixed(
        SEALS[1],
        movement="warehouse_to_customs_station",
        bill_of_entry=None,
        shipping_bill={"port_code": "INNSA1", "sb_no": "4410021", "sb_date": "2025-04-02"},
        container_no="TGHU5128706",
    )
    await run.handle((RFID_SEAL_SOLD, _sold(SEALS[1])), (RFID_SEAL_AFFIXED, export))
    scan = _scanned(
        SEALS[1], location_code="INNSA1", location_kind="customs_station", tamper_status="tampered"
    )
    uow = await run.handle((RFID_SEAL_SCANNED, scan))
    [alert] = uow.events_of(SEAL_TRIP_ALERT_RAISED)
    assert (alert["alert"], alert["document_key"]) == (
        "tamper_at_export",
        "INNSA1/4410021/2025-04-02",
    )
    assert alert["bill_of_entry_ref"] is None
    assert alert["shipping_bill_ref"] == {
        "port_code": "INNSA1",
        "sb_no": "4410021",
        "sb_date": "2025-04-02",
    }
    assert alert["actions"] == ["examination_required"]


async def test_seal_delay_1_and_ack_1_timers_alert_and_demand_once(run: Run) -> None:
    await _sealed_be(run)
    uow = await run.fire(DELAY_TIMER, SEALS[0])
    assert [a["alert"] for a in uow.events_of(SEAL_TRIP_ALERT_RAISED)] == ["inordinate_delay"]
    assert _verdicts(uow) == ["delayed"]
    assert (await run.fire(DELAY_TIMER, SEALS[0])).published == []  # fired again: nothing
    run.clock.set(datetime.fromisoformat("2025-04-22T09:40:00+05:30"))
    uow = await run.fire(ACKNOWLEDGEMENT_TIMER, SEALS[0])
    [demand] = uow.events_of(DUTY_DEMAND_RAISED)
    assert demand["duty"] == 27306566.1
    assert demand["interest"] == 347878.17
    assert demand["penalty_flagged"] is True
    assert demand["reasons"][0]["rule_id"] == "SEAL-ACK-1"
    assert [a["alert"] for a in uow.events_of(SEAL_TRIP_ALERT_RAISED)] == [
        "acknowledgement_overdue"
    ]


async def test_seal_exempt_1_an_exempt_be_is_exempt(run: Run) -> None:
    await run.handle((BILL_OF_ENTRY_REGISTERED, _registered(containers=[])))
    uow = run.new_uow()
    exemption = Exemption("commissioner_permission", "PERM/114", "officer-7", run.clock.now())
    fact = submit(uow, run.policies, Fact("exemption", (KEY, exemption)))
    await uow.commit()
    assert fact.outcome.outcome == "recorded"
    [verdict] = uow.events_of(SEAL_TRIP_RECONCILED)
    assert verdict["outcome"] == "exempt"
    assert verdict["findings"][0]["rule_id"] == "SEAL-EXEMPT-1"
