"""The shared kernel: parse once at the edge, render back losslessly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from clearance_contracts import example, example_variants, validate_event
from clearance_domain import AeoTier, BeType, BillOfEntry, BillOfEntryRef, Money, PolicyRef, Reason
from hypothesis import given
from hypothesis import strategies as st

pytestmark = pytest.mark.unit

FILED = "icegate.bill-of-entry.filed.v1"


@pytest.mark.parametrize("variant", example_variants(FILED))
def test_a_filed_bill_of_entry_renders_back_to_the_same_data(variant: str) -> None:
    data = example(FILED, variant)
    be = BillOfEntry.from_data(data)
    assert be.to_data() == data
    assert BillOfEntry.from_data(be.to_data()) == be
    validate_event(FILED, be.to_data())


def test_typed_values_come_out_of_the_filing() -> None:
    be = BillOfEntry.from_data(example(FILED))
    assert be.be_type is BeType.HOME_CONSUMPTION
    assert be.be_date == date(2025, 3, 20)
    assert be.aeo_tier_claimed is AeoTier.T2
    assert be.duty.total_duty.currency == "INR"
    assert isinstance(be.duty.total_duty.amount, Decimal)
    assert next(be.items()).unit_price == Decimal("38.5")
    assert be.key == "INNSA1/2345678/2025-03-20"


def test_absent_nullable_fields_stay_absent() -> None:
    data = example(FILED)
    del data["warehouse_code"], data["igm"]
    assert BillOfEntry.from_data(data).to_data() == data


@given(st.integers(min_value=1, max_value=998))
def test_a_newer_version_supersedes_an_older_one(version: int) -> None:
    ref = BillOfEntryRef("INNSA1", "2345678", date(2025, 3, 20), version)
    assert ref.next_version().supersedes(ref)
    assert not ref.supersedes(ref.next_version())
    assert not ref.supersedes(ref)
    assert BillOfEntryRef.from_data(ref.to_data()) == ref
    assert BillOfEntryRef.from_key(ref.key, version) == ref


def test_a_reason_names_the_source_document_of_its_rule() -> None:
    reason = Reason.of("SEAL-FMT-1", "seal 'X' is malformed", policy=PolicyRef("seal-circular", 2))
    assert "Circular 19/2018-Customs" in (reason.source_document or "")
    assert Reason.from_data(reason.to_data()) == reason
    with pytest.raises(KeyError):
        Reason.of("NO-SUCH-1", "made up")


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.integers(0, 1000))
def test_money_arithmetic_is_exact_in_rupees(amount: Decimal, days: int) -> None:
    charge = Money.rupees(amount).times(days)
    assert charge.amount == amount * days
    assert charge.whole_rupees().amount == charge.amount.quantize(Decimal(1), "ROUND_HALF_UP")


def test_money_of_different_currencies_does_not_mix() -> None:
    with pytest.raises(ValueError, match="cannot combine"):
        _ = Money.rupees(1) + Money(Decimal(1), "USD")


def test_the_version_gate_lets_through_only_the_newest_version() -> None:
    from clearance_domain import VersionGate

    v1 = BillOfEntryRef("INNSA1", "2345678", date(2025, 3, 20), 1)
    gate = VersionGate()
    assert gate.admits(v1)
    assert gate.admits(v1.next_version())
    assert not gate.admits(v1)  # late: v2 is known
    assert gate.admits(v1.next_version())  # the same version again is not stale
    other = BillOfEntryRef("INNSA1", "2345679", date(2025, 3, 20), 1)
    assert VersionGate({v1.identity: 3}).admits(other)
