"""Seal reconciliation (pure): SEAL-FMT-1, SEAL-DATA-1."""

from __future__ import annotations

import pytest
from clearance_contracts import example
from clearance_domain import BillOfEntry, Container
from warehouse_seal.domain.seals import needs_seal, reconcile

pytestmark = pytest.mark.unit

WAREHOUSING = example("icegate.bill-of-entry.filed.v1", "warehousing")


def _be(*seals: str) -> BillOfEntry:
    be = BillOfEntry.from_data(WAREHOUSING)
    containers = tuple(Container(f"MSKU123456{n}", seal) for n, seal in enumerate(seals))
    return BillOfEntry.from_data({**be.to_data(), "containers": [c.to_data() for c in containers]})


def test_only_warehousing_bes_need_a_seal() -> None:
    assert needs_seal(BillOfEntry.from_data(WAREHOUSING))
    assert not needs_seal(BillOfEntry.from_data(example("icegate.bill-of-entry.filed.v1")))


@pytest.mark.parametrize("seal", ["ABCD 1234 5678", "ABCD12345678"])
def test_well_formed_seals_match(seal: str) -> None:
    result = reconcile(_be(seal))
    assert result.outcome == "matched"
    assert result.seal_numbers == (seal,)
    assert result.warehouse_code == WAREHOUSING["warehouse_code"]


@pytest.mark.parametrize("seal", ["ABC 1234 5678", "ABCD 1234 567", "abcd 1234 5678", "X"])
def test_malformed_seal_numbers_are_findings(seal: str) -> None:
    result = reconcile(_be("ABCD 1234 5678", seal))
    assert result.outcome == "mismatched"
    assert [f.rule_id for f in result.findings] == ["SEAL-FMT-1"]


def test_warehousing_without_any_seal_is_a_finding() -> None:
    result = reconcile(_be())
    assert [f.rule_id for f in result.findings] == ["SEAL-DATA-1"]
