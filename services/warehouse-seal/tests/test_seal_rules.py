"""The SEAL-* rules of Circular 19/2018 (pure domain), one group per rule id, and the
policy in force chosen by date (SEAL-POLICY-1)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from clearance_contracts import RFID_SEAL_AFFIXED, RFID_SEAL_SOLD, example
from clearance_domain import BillOfEntry, BillOfEntryRef, Container, Money
from clearance_runtime.policies import Policies
from hypothesis import given
from hypothesis import strategies as st
from warehouse_seal.domain.movements import (
    Exemption,
    Movement,
    container_ok,
    iso6346_check_digit,
    sealing_from,
    vehicle_registration,
)
from warehouse_seal.domain.policy import InForce, SealCircular
from warehouse_seal.domain.reconciliation import Bill, needs_seal, reconcile
from warehouse_seal.domain.seals import Refused, Sale, register, sale_from, seal_number, tid_of
from warehouse_seal.domain.trips import Scan, Trip, TripState, add_months
from warehouse_seal.service_layer.policies import SEAL_CIRCULAR, SEAL_VENDORS, in_force

pytestmark = pytest.mark.unit

WAREHOUSING = example("icegate.bill-of-entry.filed.v1", "warehousing")
SOLD = example(RFID_SEAL_SOLD)
AFFIXED = example(RFID_SEAL_AFFIXED)
IST = "+05:30"


def _rules(policies: Policies, at: str = "2025-03-21") -> InForce[SealCircular]:
    circular = in_force(policies, SEAL_CIRCULAR, date.fromisoformat(at))
    assert circular is not None
    return circular


def _sale(policies: Policies, **changes: Any) -> Sale:
    data = {**SOLD, **changes}
    return sale_from(
        data, in_force(policies, SEAL_VENDORS, datetime.fromisoformat(data["sold_at"]))
    )


def _refusal(call: Any) -> list[str]:
    with pytest.raises(Refused) as refused:
        call()
    return [reason.rule_id for reason in refused.value.reasons]


def _bill(*seals: str, warehouse: str = "MUM4W017") -> Bill:
    be = BillOfEntry.from_data(WAREHOUSING)
    containers = [
        Container("MRKU4820932" if n == 0 else "TGHU5128706", seal).to_data()
        for n, seal in enumerate(seals)
    ]
    be = BillOfEntry.from_data(
        {**be.to_data(), "containers": containers, "warehouse_code": warehouse}
    )
    return Bill.of(be.ref(1), be, None)


def _trip(policies: Policies, **changes: Any) -> Trip:
    sealing = sealing_from({**AFFIXED, **changes})
    return Trip.seal(sealing, _sale(policies), _rules(policies))


def _scan(**changes: Any) -> Scan:
    data = {**example("reader.rfid-seal.scanned.v1"), **changes}
    return Scan.from_data(data, str(seal_number(data["seal_no"])), str(tid_of(data["tid"])))


# -- SEAL-POLICY-1: the circular is a policy with an effective period ---------------------


@pytest.mark.parametrize(
    ("on", "version", "circular"),
    [
        ("2018-08-01", 1, "19/2018-Customs"),  # para 6: in force from 1st August 2018
        ("2020-05-17", 1, "19/2018-Customs"),
        ("2020-05-18", 2, "25/2020-Customs"),  # rescinded and re-issued by Circular 25/2020
        ("2025-03-21", 2, "25/2020-Customs"),
    ],
)
def test_seal_policy_1_the_circular_in_force_is_chosen_by_date(
    policies: Policies, on: str, version: int, circular: str
) -> None:
    chosen = _rules(policies, on)
    assert (chosen.ref.version, chosen.body.circular) == (version, circular)


def test_seal_policy_1_before_the_circular_no_rfid_seal_is_required(policies: Policies) -> None:
    assert in_force(policies, SEAL_CIRCULAR, date(2018, 7, 31)) is None
    verdict = reconcile(_bill("ZSEL 4417 0932"), None, {}, {}, {})
    assert verdict is not None
    assert (verdict.outcome, verdict.findings[0].rule_id) == ("exempt", "SEAL-POLICY-1")


def test_seal_policy_1_reasons_cite_the_policy_version(policies: Policies) -> None:
    trip = _trip(policies)
    trip.delay_elapsed(trip.delay_due_at)
    assert trip.findings[-1].policy is not None
    assert trip.findings[-1].policy.to_data() == {"policy_id": "seal-circular", "version": 2}


# -- SEAL-FMT-1: `ABCD XXXX XXXX`, unique, single use, a listed vendor's brand -------------


@pytest.mark.parametrize("text", ["ZSEL 4417 0932", "ZSEL44170932", " ZSEL 44170932 "])
def test_seal_fmt_1_well_formed_numbers_are_read_in_one_form(text: str) -> None:
    assert seal_number(text) == "ZSEL 4417 0932"


@pytest.mark.parametrize(
    "text", ["ZSE 4417 0932", "ZSEL 4417 093", "zsel 4417 0932", "ZSEL-4417-0932"]
)
def test_seal_fmt_1_malformed_numbers_are_not_seal_numbers(text: str) -> None:
    assert seal_number(text) is None


@given(st.from_regex(r"[A-Z]{4} [0-9]{4} [0-9]{4}", fullmatch=True))
def test_seal_fmt_1_every_number_of_the_form_is_its_own_written_form(text: str) -> None:
    assert seal_number(text) == text
    assert seal_number(text.replace(" ", "")) == text


def test_seal_fmt_1_a_brand_that_is_not_a_listed_vendor_is_refused(policies: Policies) -> None:
    rules = _refusal(lambda: _sale(policies, seal_no="QQQQ 1234 5678", vendor_brand="QQQQ"))
    assert rules == ["SEAL-FMT-1"]


def test_seal_fmt_1_the_number_bears_the_vendor_brand(policies: Policies) -> None:
    assert _refusal(lambda: _sale(policies, vendor_brand="RFSL")) == ["SEAL-FMT-1"]


def test_seal_fmt_1_a_seal_number_is_sold_once(policies: Policies) -> None:
    sale = _sale(policies)
    assert register(sale, None) is True
    assert register(sale, sale) is False  # the same sale again: a duplicate, not a reuse
    other = _sale(policies, tid="E28011702000121A4C3FFFFF")
    assert _refusal(lambda: register(other, sale)) == ["SEAL-FMT-1"]


def test_seal_fmt_1_a_seal_declared_on_another_be_is_a_reuse(policies: Policies) -> None:
    bill = _bill("ZSEL 4417 0932")
    sale = _sale(policies)
    verdict = reconcile(
        bill,
        _rules(policies),
        {sale.seal_no: sale},
        {},
        {sale.seal_no: "INNSA1/1111111/2025-03-01"},
    )
    assert verdict is not None
    assert verdict.outcome == "mismatched"
    assert "used once" in verdict.findings[0].message


def test_seal_fmt_1_a_malformed_seal_on_the_be_is_a_finding(policies: Policies) -> None:
    verdict = reconcile(_bill("ZSEL 4417 093"), _rules(policies), {}, {}, {})
    assert verdict is not None
    assert (verdict.outcome, [f.rule_id for f in verdict.findings]) == (
        "mismatched",
        ["SEAL-FMT-1"],
    )


# -- SEAL-STD-1 (as far as data shows it): the TID of an ISO/IEC 18000-6C tag ----------------


@pytest.mark.parametrize(
    ("text", "tid"), [("e2801170 2000121a", "E28011702000121A"), ("0xE280", None)]
)
def test_seal_std_1_a_tid_is_hexadecimal_of_at_least_32_bits(text: str, tid: str | None) -> None:
    assert tid_of(text) == tid


# -- SEAL-LINK-1: the TID and the licensee's warehouse, linked at the sale -----------------


def test_seal_link_1_the_sale_links_tid_and_warehouse(policies: Policies) -> None:
    sale = _sale(policies)
    assert (sale.tid, sale.warehouse_code, sale.vendor_brand) == (
        "E28011702000121A4C3F0932",
        "MUM4W017",
        "ZSEL",
    )
    assert sale.policy is not None
    assert sale.policy.policy_id == "rfid-seal-vendors"


def test_seal_link_1_the_be_warehouse_must_be_the_seals(policies: Policies) -> None:
    sale = _sale(policies)
    matched = reconcile(_bill("ZSEL 4417 0932"), _rules(policies), {sale.seal_no: sale}, {}, {})
    assert matched is not None
    assert matched.outcome == "matched"
    assert matched.findings[0].rule_id == "SEAL-LINK-1"
    other = reconcile(
        _bill("ZSEL 4417 0932", warehouse="MAA4W001"),
        _rules(policies),
        {sale.seal_no: sale},
        {},
        {},
    )
    assert other is not None
    assert other.outcome == "mismatched"
    assert "linked to warehouse MUM4W017, not to MAA4W001" in other.findings[0].message


def test_seal_link_1_no_verdict_while_a_sale_is_awaited_then_a_mismatch(policies: Policies) -> None:
    bill = _bill("ZSEL 4417 0932")
    assert reconcile(bill, _rules(policies), {}, {}, {}) is None
    bill.waited_out_version = 1
    verdict = reconcile(bill, _rules(policies), {}, {}, {})
    assert verdict is not None
    assert verdict.outcome == "mismatched"
    assert verdict.findings[0].rule_id == "SEAL-LINK-1"


def test_seal_link_1_a_tid_that_is_not_the_sold_one_is_a_tamper(policies: Policies) -> None:
    trip = _trip(policies)
    trip.scan(_scan(tid="E28011702000121A4C3FAAAA"), _sale(policies), trip.sealing.sealed_at)
    assert trip.state is TripState.TAMPERED
    assert [event.alert for event in trip.events] == ["tid_mismatch"]  # type: ignore[union-attr]
    assert trip.unloading_refused


# -- SEAL-DATA-1..3: the data elements of each kind of movement -----------------------------


def test_seal_data_1_customs_station_to_warehouse(policies: Policies) -> None:
    sealing = sealing_from(AFFIXED)
    assert sealing.movement is Movement.TO_WAREHOUSE
    assert (sealing.origin, sealing.destination) == ("INNSA1", "MUM4W017")
    assert sealing.vehicle_no == "MH46BM4821"
    assert sealing.document.key == "INNSA1/2345702/2025-03-21"


def test_seal_data_1_every_missing_or_malformed_element_is_named() -> None:
    broken = {
        **AFFIXED,
        "iec": "12AB",
        "vehicle_no": "not a lorry",
        "container_no": "MRKU4820933",  # wrong ISO 6346 check digit
        "customs_location_code": None,
        "bill_of_entry": None,
    }
    with pytest.raises(Refused) as refused:
        sealing_from(broken)
    messages = " | ".join(r.message for r in refused.value.reasons)
    assert {r.rule_id for r in refused.value.reasons} == {"SEAL-DATA-1"}
    for part in (
        "IEC",
        "vehicle registration",
        "ISO 6346",
        "customs location code",
        "bill of entry",
    ):
        assert part in messages


def test_seal_data_1_no_container_where_the_cargo_is_not_containerised() -> None:
    assert sealing_from({**AFFIXED, "container_no": None}).container_no is None


def test_seal_data_2_warehouse_to_customs_station_for_export() -> None:
    export = {
        **AFFIXED,
        "movement": "warehouse_to_customs_station",
        "bill_of_entry": None,
        "shipping_bill": {"port_code": "INNSA1", "sb_no": "4410021", "sb_date": "2025-04-02"},
    }
    sealing = sealing_from(export)
    assert (sealing.origin, sealing.destination) == ("MUM4W017", "INNSA1")
    assert sealing.document.label() == "SB INNSA1/4410021/2025-04-02"
    rules = _refusal(lambda: sealing_from({**export, "shipping_bill": None}))
    assert rules == ["SEAL-DATA-2"]


def test_seal_data_3_warehouse_to_warehouse_under_section_67() -> None:
    moved = {
        **AFFIXED,
        "movement": "warehouse_to_warehouse",
        "warehouse_code": None,
        "customs_location_code": None,
        "origin_warehouse_code": "MUM4W017",
        "destination_warehouse_code": "PNQ4W002",
    }
    sealing = sealing_from(moved)
    assert (sealing.origin, sealing.destination, sealing.warehouse_linked) == (
        "MUM4W017",
        "PNQ4W002",
        "PNQ4W002",
    )
    rules = _refusal(lambda: sealing_from({**moved, "destination_warehouse_code": "MUM4W017"}))
    assert rules == ["SEAL-DATA-3"]


@pytest.mark.parametrize("number", ["MRKU4820932", "TGHU5128706", "CSQU3054383"])
def test_seal_data_iso_6346_check_digits(number: str) -> None:
    assert container_ok(number)
    assert iso6346_check_digit(number[:10]) == int(number[10])


@pytest.mark.parametrize(
    ("text", "mark"),
    [
        ("MH 04 AB 1234", "MH04AB1234"),
        ("dl-1c-4521", "DL1C4521"),
        ("22 BH 1234 AA", "22BH1234AA"),
        ("X1", None),
    ],
)
def test_seal_data_vehicle_registration_marks(text: str, mark: str | None) -> None:
    assert vehicle_registration(text) == mark


# -- SEAL-TAMPER-1, SEAL-TAMPER-2 ---------------------------------------------------------


def test_seal_tamper_2_tampered_on_arrival_no_unloading_bond_officer_alerted(
    policies: Policies,
) -> None:
    trip = _trip(policies)
    trip.scan(_scan(tamper_status="tampered"), _sale(policies), trip.sealing.sealed_at)
    [alert] = trip.events
    assert alert.alert == "tamper_at_warehouse"  # type: ignore[union-attr]
    assert alert.actions == ("unloading_refused", "bond_officer_informed")  # type: ignore[union-attr]
    assert trip.unloading_refused
    assert trip.state is TripState.TAMPERED
    trip.scan(_scan(tamper_status="tampered"), _sale(policies), trip.sealing.sealed_at)
    assert len(trip.events) == 1  # found again: not alerted twice


def test_seal_tamper_1_tampered_at_the_customs_station_on_export_means_examination(
    policies: Policies,
) -> None:
    trip = _trip(
        policies,
        movement="warehouse_to_customs_station",
        bill_of_entry=None,
        shipping_bill={"port_code": "INNSA1", "sb_no": "4410021", "sb_date": "2025-04-02"},
    )
    sale = _sale(policies)
    trip.scan(
        _scan(location_code="INNSA1", location_kind="customs_station", tamper_status="tampered"),
        sale,
        trip.sealing.sealed_at,
    )
    [alert] = trip.events
    assert alert.alert == "tamper_at_export"  # type: ignore[union-attr]
    assert trip.examination_required
    assert alert.reasons[0].rule_id == "SEAL-TAMPER-1"  # type: ignore[union-attr]


def test_seal_tamper_1_a_tid_mismatch_on_export_also_requires_examination(
    policies: Policies,
) -> None:
    trip = _trip(
        policies,
        movement="warehouse_to_customs_station",
        bill_of_entry=None,
        shipping_bill={"port_code": "INNSA1", "sb_no": "4410021", "sb_date": "2025-04-02"},
    )
    trip.scan(_scan(tid="AAAA0000BBBB1111"), _sale(policies), trip.sealing.sealed_at)
    assert [e.alert for e in trip.events] == ["tid_mismatch", "tamper_at_export"]  # type: ignore[union-attr]


# -- SEAL-TRIP-1 --------------------------------------------------------------------------


def test_seal_trip_1_a_clean_scan_at_the_destination_makes_the_trip_report(
    policies: Policies,
) -> None:
    trip = _trip(policies)
    sale = _sale(policies)
    origin = _scan(
        location_code="INNSA1",
        location_kind="customs_station",
        scanned_at="2025-03-22T10:05:00+05:30",
    )
    trip.scan(origin, sale, origin.scanned_at)
    assert trip.state is TripState.IN_TRANSIT
    arrival = _scan()
    trip.scan(arrival, sale, arrival.scanned_at)
    assert trip.state is TripState.ARRIVED
    assert trip.acknowledged_at == arrival.scanned_at
    report = trip.report
    assert report is not None
    assert report["report_no"] == "TR-ZSEL44170932-202503221631"
    assert report["acknowledgement"]["late"] is False
    assert [s["role"] for s in report["scans"]] == ["origin", "destination"]
    assert report["reasons"][0]["rule_id"] == "SEAL-TRIP-1"


def test_seal_trip_1_no_report_without_the_sale_to_check_the_tid(policies: Policies) -> None:
    trip = Trip.seal(sealing_from(AFFIXED), None, _rules(policies))
    trip.scan(_scan(), None, trip.sealing.sealed_at)
    assert trip.report is None
    assert trip.open


# -- SEAL-DELAY-1 -------------------------------------------------------------------------


def test_seal_delay_1_not_arrived_in_time_alerts_once(policies: Policies) -> None:
    trip = _trip(policies)
    assert trip.delay_due_at == trip.sealing.sealed_at + timedelta(hours=72)
    trip.delay_elapsed(trip.delay_due_at)
    trip.delay_elapsed(trip.delay_due_at + timedelta(hours=1))
    [alert] = trip.events
    assert alert.alert == "inordinate_delay"
    assert trip.delayed
    assert alert.location == "MUM4W017"  # type: ignore[union-attr]


def test_seal_delay_1_a_delayed_trip_is_part_of_the_be_verdict(policies: Policies) -> None:
    trip = _trip(policies)
    trip.delay_elapsed(trip.delay_due_at)
    sale = _sale(policies)
    verdict = reconcile(
        _bill("ZSEL 4417 0932"), _rules(policies), {sale.seal_no: sale}, {trip.seal_no: trip}, {}
    )
    assert verdict is not None
    assert verdict.outcome == "delayed"


# -- SEAL-ACK-1 ---------------------------------------------------------------------------


def test_seal_ack_1_one_month_to_acknowledge(policies: Policies) -> None:
    trip = _trip(policies)
    assert trip.acknowledgement_due_at == datetime.fromisoformat("2025-04-22T09:40:00+05:30")
    assert add_months(datetime.fromisoformat("2025-01-31T10:00:00" + IST), 1).day == 28


def test_seal_ack_1_overdue_raises_the_duty_demand_with_interest(policies: Policies) -> None:
    trip = _trip(policies)
    trip.acknowledgement_overdue(
        trip.acknowledgement_due_at - timedelta(seconds=1), Money.rupees(1)
    )
    assert trip.events == []  # not yet due
    trip.acknowledgement_overdue(trip.acknowledgement_due_at, Money.rupees("27306566.10"))
    alert, demand = trip.events[1], trip.events[0]
    assert alert.alert == "acknowledgement_overdue"  # type: ignore[union-attr]
    assert demand.duty == Money.rupees("27306566.10")  # type: ignore[union-attr]
    # 15 % a year for the 31 days from sealing: 27,306,566.10 x 0.15 x 31 / 365
    assert demand.interest == Money.rupees("347878.17")  # type: ignore[union-attr]
    assert demand.interest_rate_percent == Decimal(15)  # type: ignore[union-attr]


def test_seal_ack_1_the_proper_officer_may_extend_the_deadline(policies: Policies) -> None:
    trip = _trip(policies)
    later = trip.acknowledgement_due_at + timedelta(days=15)
    trip.extend(later, "ship delayed by cyclone", "officer-7", trip.sealing.sealed_at)
    assert trip.acknowledgement_due_at == later
    trip.acknowledgement_overdue(later - timedelta(days=1), Money.rupees(100))
    assert trip.events == []
    assert _refusal(lambda: trip.extend(later, "again", "officer-7", later)) == ["SEAL-ACK-1"]


def test_seal_ack_1_a_trip_report_discharges_the_acknowledgement(policies: Policies) -> None:
    trip = _trip(policies)
    trip.scan(_scan(), _sale(policies), trip.sealing.sealed_at)
    trip.events.clear()
    trip.acknowledgement_overdue(trip.acknowledgement_due_at, Money.rupees(100))
    assert trip.events == []
    assert trip.duty_demanded_at is None


# -- SEAL-EXEMPT-1 ------------------------------------------------------------------------


@pytest.mark.parametrize("ground", ["customs_escort", "commissioner_permission"])
def test_seal_exempt_1_exempt_movements_are_recorded_as_such(
    policies: Policies, ground: str
) -> None:
    exemption = Exemption(
        ground, "PERM/2025/114", "officer-7", datetime.fromisoformat("2025-03-21T10:00:00+05:30")
    )
    verdict = reconcile(_bill(), _rules(policies), {}, {}, {}, exemption)
    assert verdict is not None
    assert verdict.outcome == "exempt"
    assert verdict.findings[0].rule_id == "SEAL-EXEMPT-1"


def test_seal_data_1_a_warehousing_be_without_seal_or_exemption_is_a_mismatch(
    policies: Policies,
) -> None:
    verdict = reconcile(_bill(), _rules(policies), {}, {}, {})
    assert verdict is not None
    assert [f.rule_id for f in verdict.findings] == ["SEAL-DATA-1"]


def test_only_warehousing_bes_need_a_seal() -> None:
    assert needs_seal(BillOfEntry.from_data(WAREHOUSING))
    assert not needs_seal(BillOfEntry.from_data(example("icegate.bill-of-entry.filed.v1")))


def test_a_bill_keeps_its_published_verdicts_across_versions() -> None:
    first = _bill("ZSEL 4417 0932")
    first.published[1] = {"outcome": "matched", "findings": []}
    be = BillOfEntry.from_data(copy.deepcopy(WAREHOUSING))
    second = Bill.of(BillOfEntryRef.from_key(first.key, 2), be, first)
    assert second.published == {1: {"outcome": "matched", "findings": []}}
    assert Bill.from_data(second.to_data()) == second
